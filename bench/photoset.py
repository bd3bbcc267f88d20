"""A reproducible set of 20 varied 12 MP camera-like photos, made in code from a seed.

Each scene is drawn at full size (4000×3000, or 3000×4000 for the portrait ones): cartons
with printed labels, text and barcodes, tape, shelves, sacks, corrugated steel, paper,
sky, with textures from seeded noise; then a camera pass: lens softness, motion or focus
blur, exposure, vignetting, shot noise (brighter pixels noisier) plus read noise and
coarser chroma noise, and a JPEG at quality 92 (4:2:0) like a tablet's camera. Nothing
is committed: `photos()` regenerates the files (≈ 1 min) and caches them in
$VAR_DIR/photoset-<seed>/ (else /tmp), keyed by the seed.
"""

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SEED = 17
LANDSCAPE, PORTRAIT = (4000, 3000), (3000, 4000)
WORDS = ["CARGO", "GUANGZHOU", "ABIDJAN", "DAKAR", "FRAGILE", "HAUT", "COLIS", "LOT", "KG",
         "YIWU", "LOME", "COTONOU", "MADE IN CHINA", "PIECES", "TEXTILE", "ELECTRONIQUE"]


def folder(seed: int = SEED) -> Path:
    return Path(os.environ.get("VAR_DIR") or "/tmp") / f"photoset-{seed}"


def photos(seed: int = SEED) -> list[Path]:
    """The 20 photos' paths, made if missing (same seed, same pixels)."""
    out = folder(seed)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (name, size, scene, camera) in enumerate(SCENES):
        path = out / f"{i + 1:02d}-{name}.jpg"
        if not path.exists():
            rng = np.random.default_rng([seed, i])
            image = shoot(scene(rng, size), rng, **camera)
            tmp = path.with_suffix(".part")
            image.save(tmp, "JPEG", quality=92, subsampling="4:2:0")
            tmp.replace(path)
        paths.append(path)
    return paths


# --- textures and drawing ---------------------------------------------------------------------

def field(rng, size, cells: int, smooth=Image.Resampling.BICUBIC) -> np.ndarray:
    """Smooth noise in [-1, 1]: `cells` random values across the longer side, upsampled."""
    w, h = size
    small = (max(2, cells * w // max(w, h)), max(2, cells * h // max(w, h)))
    values = rng.uniform(0, 255, (small[1], small[0])).astype(np.uint8)
    return np.asarray(Image.fromarray(values).resize(size, smooth), np.float32) / 127.5 - 1


def fbm(rng, size, octaves=(4, 16, 64, 256), gain=0.5) -> np.ndarray:
    total, amp = np.zeros(size[::-1], np.float32), 1.0
    for cells in octaves:
        total += amp * field(rng, size, cells)
        amp *= gain
    return total / (2 - 2 * gain ** len(octaves))


def gradient(size, top, bottom) -> np.ndarray:
    t = np.linspace(0, 1, size[1], dtype=np.float32)[:, None, None]
    return np.broadcast_to((1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32),
                           (size[1], size[0], 3)).copy()


def surface(rng, size, colour, texture=0.15, grain=0.0, octaves=(4, 16, 64, 256)) -> np.ndarray:
    """A flat colour with mottling (`texture`) and fine per-pixel grain (`grain`)."""
    shade = 1 + texture * fbm(rng, size, octaves)
    if grain:
        shade += grain * rng.standard_normal(size[::-1], np.float32)
    return np.array(colour, np.float32) * shade[..., None]


def image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size)


def words(rng, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def barcode(draw, rng, x, y, w, h) -> None:
    draw.rectangle([x, y, x + w, y + h], fill=(250, 250, 245))
    cx = x + w * 0.05
    while cx < x + w * 0.95:
        bar = rng.integers(1, 5) * w / 180
        draw.rectangle([cx, y + h * 0.08, cx + bar, y + h * 0.8], fill=(20, 20, 20))
        cx += bar + rng.integers(1, 4) * w / 180
    draw.text((x + w * 0.1, y + h * 0.82), "".join(str(d) for d in rng.integers(0, 10, 13)),
              fill=(20, 20, 20), font=font(max(8, int(h * 0.14))))


def label(draw, rng, x, y, w, h) -> None:
    """A white shipping label: heading, lines of text, a barcode."""
    draw.rectangle([x, y, x + w, y + h], fill=(242, 240, 232), outline=(60, 60, 60), width=3)
    size = max(10, int(h / 12))
    draw.text((x + w * 0.05, y + h * 0.04), f"CARGO-2026{rng.integers(1000, 9999)}",
              fill=(10, 10, 10), font=font(int(size * 1.4)))
    for line in range(4):
        draw.text((x + w * 0.05, y + h * (0.22 + 0.1 * line)), words(rng, 3), fill=(30, 30, 40),
                  font=font(size))
    barcode(draw, rng, x + w * 0.05, y + h * 0.64, w * 0.9, h * 0.32)


def carton(draw, rng, box, colour=(176, 132, 84), detail=True) -> None:
    """A carton face with its edges, brown tape across, a label and printed marks."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    tone = tuple(int(c * rng.uniform(0.85, 1.1)) for c in colour)
    draw.rectangle(box, fill=tone, outline=tuple(int(c * 0.55) for c in tone), width=max(2, int(w // 120)))
    tape = (int(x0 + w * 0.42), y0, int(x0 + w * 0.58), y1)
    draw.rectangle(tape, fill=(196, 160, 96) if rng.random() < 0.5 else (220, 215, 200))
    if not detail:
        return
    lw, lh = w * rng.uniform(0.28, 0.36), h * rng.uniform(0.3, 0.4)
    label(draw, rng, x0 + w * 0.06, y0 + h * 0.5, lw, lh)
    mark = max(10, int(h / 10))
    draw.text((x0 + w * 0.62, y0 + h * 0.1), rng.choice(WORDS), fill=(40, 30, 30), font=font(mark))
    draw.text((x0 + w * 0.62, y0 + h * 0.1 + mark * 1.3), f"{rng.integers(5, 60)} KG",
              fill=(40, 30, 30), font=font(mark))


def paste(base: np.ndarray, draw_on: Callable[[ImageDraw.ImageDraw], None]) -> np.ndarray:
    picture = image(base)
    draw_on(ImageDraw.Draw(picture))
    return np.asarray(picture, np.float32)


# --- scenes (each returns float RGB pixels, 0–255 scale) ---------------------------------------

def carton_closeup(rng, size):
    w, h = size
    base = surface(rng, size, (120, 118, 112), 0.2, 0.04)
    return paste(base, lambda d: carton(d, rng, (w * 0.08, h * 0.1, w * 0.92, h * 0.93)))


def pallet_stack(rng, size):
    w, h = size
    base = gradient(size, (150, 150, 145), (95, 92, 88)) * (1 + 0.1 * fbm(rng, size))[..., None]

    def draw(d):
        d.rectangle([w * 0.1, h * 0.86, w * 0.9, h * 0.95], fill=(150, 110, 70))
        for row in range(3):
            for col in range(4):
                x, y = w * (0.12 + col * 0.195), h * (0.06 + row * 0.27)
                carton(d, rng, (x, y, x + w * 0.19, y + h * 0.26), detail=rng.random() < 0.7)
    return paste(base, draw)


def shelves(rng, size, n=6):
    w, h = size
    base = surface(rng, size, (70, 72, 80), 0.25, 0.02)

    def draw(d):
        for shelf in range(4):
            y = h * (0.05 + shelf * 0.24)
            d.rectangle([0, y + h * 0.2, w, y + h * 0.22], fill=(200, 90, 30))
            x = w * 0.01
            while x < w * 0.97:
                bw = w * rng.uniform(0.05, 0.14)
                bh = h * rng.uniform(0.1, 0.19)
                carton(d, rng, (x, y + h * 0.2 - bh, x + bw, y + h * 0.2),
                       colour=tuple(int(v) for v in rng.integers(60, 230, 3)), detail=bw > w * 0.1)
                x += bw + w * 0.005
        for x in np.linspace(0, w, n):
            d.rectangle([x - w * 0.006, 0, x + w * 0.006, h], fill=(30, 70, 140))
    return paste(base, draw)


def label_closeup(rng, size):
    w, h = size
    base = surface(rng, size, (182, 140, 92), 0.12, 0.05, (8, 64, 512))

    def draw(d):
        label(d, rng, w * 0.08, h * 0.08, w * 0.84, h * 0.5)
        for line in range(9):
            d.text((w * 0.08, h * (0.62 + line * 0.035)), words(rng, 5), fill=(35, 30, 30),
                   font=font(int(h * 0.022)))
    return paste(base, draw)


def sacks(rng, size):
    """Woven polypropylene sacks: a fine criss-cross weave over big soft folds."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    weave = np.sin(x * 0.9) * np.sin(y * 0.9) * 0.12
    folds = 0.25 * fbm(rng, size, (3, 8, 20))
    base = np.array((225, 222, 210), np.float32) * (0.85 + folds + weave)[..., None]

    def draw(d):
        for _ in range(3):
            cx, cy = rng.uniform(0.1, 0.7) * w, rng.uniform(0.1, 0.7) * h
            d.text((cx, cy), rng.choice(WORDS), fill=(30, 60, 150), font=font(int(h * 0.06)))
    return paste(base, draw)


def corrugated(rng, size):
    """Torn carton edge: flutes and liner up close."""
    w, h = size
    x = np.arange(w, dtype=np.float32)
    flutes = 0.18 * np.sin(x / 9.0)[None, :] * (1 + 0.3 * field(rng, size, 6))
    base = np.array((170, 128, 80), np.float32) * (0.9 + flutes + 0.08 * fbm(rng, size))[..., None]
    base[: h // 3] = surface(rng, (w, h - 2 * h // 3), (190, 150, 100), 0.1, 0.06)[: h // 3]
    return base


def wrapped_pallet(rng, size):
    w, h = size
    base = pallet_stack(rng, size)
    shine = np.clip(fbm(rng, size, (3, 9, 30)) * 2.2 - 0.6, 0, 1) ** 2
    streaks = 0.5 + 0.5 * np.sin(np.arange(w, dtype=np.float32) / 40)[None, :]
    return base * 0.85 + (255 * 0.7 * shine * streaks)[..., None]


def concrete_floor(rng, size):
    w, h = size
    base = surface(rng, size, (135, 133, 128), 0.3, 0.1, (4, 16, 64, 256, 1024))
    return paste(base, lambda d: carton(d, rng, (w * 0.3, h * 0.25, w * 0.7, h * 0.75)))


def plain_wall(rng, size):
    """The easy one: a smooth wall and one small carton."""
    w, h = size
    base = gradient(size, (225, 222, 215), (180, 176, 168))
    return paste(base, lambda d: carton(d, rng, (w * 0.4, h * 0.45, w * 0.6, h * 0.7), detail=False))


def clutter(rng, size):
    w, h = size
    base = surface(rng, size, (90, 80, 70), 0.3, 0.05)

    def draw(d):
        for _ in range(900):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(10, 120)
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            if rng.random() < 0.5:
                d.rectangle([x, y, x + r * 2, y + r], fill=colour, outline=(20, 20, 20))
            else:
                d.ellipse([x - r, y - r, x + r, y + r], fill=colour)
        for _ in range(40):
            d.text((rng.uniform(0, w), rng.uniform(0, h)), words(rng, 2), fill=(250, 250, 250),
                   font=font(int(rng.uniform(20, 70))))
    return paste(base, draw)


def tall_stack(rng, size):
    w, h = size
    base = gradient(size, (110, 115, 125), (60, 58, 55))

    def draw(d):
        y = h * 0.97
        while y > h * 0.05:
            bh = h * rng.uniform(0.12, 0.2)
            x = w * rng.uniform(0.12, 0.2)
            carton(d, rng, (x, y - bh, x + w * rng.uniform(0.55, 0.7), y))
            y -= bh
    return paste(base, draw)


def documents(rng, size):
    """Printed shipping documents on a desk: small dense text."""
    w, h = size
    base = surface(rng, size, (120, 80, 50), 0.2, 0.03, (4, 16, 256))

    def draw(d):
        d.rectangle([w * 0.07, h * 0.05, w * 0.93, h * 0.95], fill=(246, 246, 240))
        small = font(int(h * 0.012))
        d.text((w * 0.1, h * 0.07), "FACTURE / PACKING LIST", fill=(0, 0, 0), font=font(int(h * 0.025)))
        for line in range(60):
            yy = h * (0.12 + line * 0.013)
            d.text((w * 0.1, yy), words(rng, 7), fill=(20, 20, 20), font=small)
            d.text((w * 0.72, yy), f"{rng.integers(1, 900)},{rng.integers(0, 99):02d}", fill=(20, 20, 20),
                   font=small)
        for line in range(0, 61, 5):
            d.line([w * 0.09, h * (0.118 + line * 0.013), w * 0.91, h * (0.118 + line * 0.013)],
                   fill=(90, 90, 90), width=2)
    return paste(base, draw)


def stripes(rng, size):
    """Rolls of striped fabric: fine regular stripes, a moiré trap for the resize."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    bend = 30 * field(rng, size, 5)
    stripe = (np.sin((x + y * 0.3 + bend) / 3.1) > 0).astype(np.float32)
    colours = np.array([(200, 40, 50), (240, 230, 210)], np.float32)
    base = colours[0] * stripe[..., None] + colours[1] * (1 - stripe[..., None])
    return base * (0.75 + 0.25 * fbm(rng, size, (3, 9)))[..., None]


def printed_boxes(rng, size):
    """Electronics boxes: colourful print, logos, photos of the product."""
    w, h = size
    base = surface(rng, size, (200, 200, 205), 0.1, 0.02)

    def draw(d):
        for col in range(3):
            x = w * (0.04 + col * 0.32)
            colour = tuple(int(v) for v in rng.integers(20, 240, 3))
            d.rectangle([x, h * 0.1, x + w * 0.3, h * 0.9], fill=colour, outline=(10, 10, 10), width=6)
            for _ in range(30):
                cx, cy = x + rng.uniform(0.02, 0.28) * w, h * rng.uniform(0.15, 0.85)
                r = rng.uniform(10, 80)
                d.ellipse([cx - r, cy - r, cx + r, cy + r],
                          fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
            d.text((x + w * 0.02, h * 0.12), rng.choice(WORDS), fill=(255, 255, 255),
                   font=font(int(h * 0.05)))
            barcode(d, rng, x + w * 0.15, h * 0.75, w * 0.12, h * 0.1)
    return paste(base, draw)


def container_sky(rng, size):
    """A steel container under a bright sky: ridges, rust, a blown-out sky gradient."""
    w, h = size
    base = gradient(size, (250, 252, 255), (150, 190, 235))
    clouds = np.clip(fbm(rng, size, (3, 8, 24, 64)) * 1.5 + 0.2, 0, 1)
    base = base * (1 - clouds[..., None] * 0.3) + 250 * clouds[..., None] * 0.3
    x = np.arange(w, dtype=np.float32)
    ridges = 0.75 + 0.25 * np.sign(np.sin(x / 22.0))[None, :]
    rust = 1 + 0.25 * fbm(rng, size)
    steel = np.array((40, 90, 150), np.float32) * (ridges * rust)[..., None]
    base[int(h * 0.45):] = steel[int(h * 0.45):]
    return paste(base, lambda d: d.text((w * 0.1, h * 0.55), "MSKU 4820117 2", fill=(240, 240, 240),
                                        font=font(int(h * 0.06))))


def yard(rng, size):
    """Outdoors: sky, a truck's tarpaulin, cartons being unloaded on gravel."""
    w, h = size
    base = gradient(size, (235, 240, 250), (120, 170, 225))
    gravel = surface(rng, size, (140, 130, 115), 0.35, 0.2, (16, 64, 256, 1024))
    base[int(h * 0.6):] = gravel[int(h * 0.6):]

    def draw(d):
        d.rectangle([w * 0.05, h * 0.25, w * 0.6, h * 0.65], fill=(30, 110, 60))
        for i in range(5):
            x = w * (0.15 + i * 0.16)
            carton(d, rng, (x, h * 0.6, x + w * 0.14, h * 0.82), detail=True)
    return paste(base, draw)


SCENES = [  # name, size, scene, camera pass
    ("carton", LANDSCAPE, carton_closeup, {}),
    ("pallet", LANDSCAPE, pallet_stack, {}),
    ("shelves", LANDSCAPE, shelves, {}),
    ("label", PORTRAIT, label_closeup, {}),
    ("sacks", LANDSCAPE, sacks, {}),
    ("flutes", LANDSCAPE, corrugated, {}),
    ("wrapped", LANDSCAPE, wrapped_pallet, {"exposure": 1.1}),
    ("floor", LANDSCAPE, concrete_floor, {}),
    ("wall", LANDSCAPE, plain_wall, {"detail": 0.04}),
    ("clutter", LANDSCAPE, clutter, {}),
    ("stack", PORTRAIT, tall_stack, {}),
    ("papers", PORTRAIT, documents, {}),
    ("stripes", LANDSCAPE, stripes, {}),
    ("boxes", LANDSCAPE, printed_boxes, {}),
    ("container", LANDSCAPE, container_sky, {"exposure": 1.15}),
    ("yard", LANDSCAPE, yard, {"exposure": 1.1}),
    ("dim-carton", LANDSCAPE, carton_closeup, {"exposure": 0.25, "iso": 4.0}),
    ("night-shelves", PORTRAIT, shelves, {"exposure": 0.3, "iso": 5.0, "cast": (1.0, 0.95, 0.7)}),
    ("shaken", LANDSCAPE, pallet_stack, {"motion": 25}),
    ("unfocused", PORTRAIT, label_closeup, {"focus": 6}),
]


DETAIL = 0.12  # amplitude of the surfaces' fine relief
SHARPEN = 70  # % of the camera's unsharp mask


# --- the camera --------------------------------------------------------------------------------

def shoot(pixels: np.ndarray, rng, *, exposure=1.0, iso=1.0, cast=(1.0, 1.0, 1.0), motion=0,
          focus=0.0, detail=DETAIL, sharpen=SHARPEN) -> Image.Image:
    """Optics, exposure, vignetting, sensor noise and the camera's sharpening over a scene."""
    h, w = pixels.shape[:2]
    # Real surfaces are never flat: fine relief a few pixels across, under the optics.
    relief = 0.6 * field(rng, (w, h), max(w, h) // 4) + 0.4 * field(rng, (w, h), max(w, h) // 16)
    pixels = pixels * (1 + detail * relief)[..., None]
    picture = image(pixels).filter(ImageFilter.GaussianBlur(0.7 + focus))
    lin = (np.asarray(picture, np.float32) / 255) ** 2.2
    if motion:
        lin = np.cumsum(lin, axis=1)
        lin = (lin[:, motion:] - lin[:, :-motion]) / motion
        lin = np.pad(lin, ((0, 0), (motion // 2, motion - motion // 2), (0, 0)), mode="edge")
    yy, xx = np.ogrid[-1:1:h * 1j, -1:1:w * 1j]
    vignette = 1 - 0.25 * (xx ** 2 + yy ** 2) / 2
    lin = lin * (exposure * vignette)[..., None] * np.array(cast, np.float32)
    # Shot noise grows with the signal, read noise does not; a dim shot is gained up (iso).
    sigma = iso * np.sqrt(0.0002 * lin + 0.00001)
    lin = lin + sigma * rng.standard_normal(lin.shape[:2], np.float32)[..., None]
    chroma = np.stack([field(rng, (w, h), max(w, h) // 3, Image.Resampling.BILINEAR) for _ in range(3)], -1)
    lin = lin + iso * 0.004 * chroma * np.sqrt(lin.clip(0) + 0.01)
    lin = np.clip(lin, 0, 1)
    return image(255 * lin ** (1 / 2.2)).filter(ImageFilter.UnsharpMask(1.2, sharpen, 0))


def main() -> None:
    for path in photos():
        print(path, f"{path.stat().st_size / 1e6:.1f} MB", Image.open(path).size)


if __name__ == "__main__":
    main()

