"""Test photos: a 12 MP camera JPEG (3–4 MB, the baseline's upload) and the ≈1600 px
JPEG the PWA makes of it on the device (what our pipeline uploads). Cached under var/bench."""

import io
import random

from PIL import Image, ImageDraw, ImageFilter

from .env import VAR

CAMERA = (4000, 3000)


def camera_jpeg() -> bytes:
    """A 4000×3000 JPEG with shapes and sensor-like noise, 3–4 MB like a tablet's camera."""
    path = VAR / "camera-12mp.jpg"
    if path.exists():
        return path.read_bytes()
    rng = random.Random(12)
    image = Image.new("RGB", CAMERA, (180, 150, 110))
    draw = ImageDraw.Draw(image)
    for _ in range(400):
        x, y, r = rng.randrange(CAMERA[0]), rng.randrange(CAMERA[1]), rng.randrange(20, 300)
        draw.ellipse([x - r, y - r, x + r, y + r],
                     fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    noise = Image.effect_noise(CAMERA, 40).convert("RGB")
    image = Image.blend(image.filter(ImageFilter.GaussianBlur(2)), noise, 0.10)
    for quality in (95, 93, 92, 90, 88, 85, 80):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if out.tell() <= 4_000_000:
            break
    path.write_bytes(out.getvalue())
    return out.getvalue()


def device_jpeg() -> bytes:
    """The camera photo as the PWA compresses it before upload (1600 px, JPEG q≈0.8)."""
    path = VAR / "device-1600.jpg"
    if path.exists():
        return path.read_bytes()
    image = Image.open(io.BytesIO(camera_jpeg()))
    image.thumbnail((1600, 1600), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    path.write_bytes(out.getvalue())
    return out.getvalue()
