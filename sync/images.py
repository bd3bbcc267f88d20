"""Photo processing with Pillow: checked, turned upright, stripped, resized. No Django here.

Every bad input (not an image, an unsupported format, a truncated file, zero bytes, a
decompression bomb) raises PhotoRejected with a French message for the agent; nothing
else escapes for bad input, so a worker never crashes on a photo.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # iPads shoot HEIC; the PWA usually re-encodes to JPEG, but not always.
    import pillow_heif

    pillow_heif.register_heif_opener()
    FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
except ImportError:  # pragma: no cover - pillow-heif is a dependency
    FORMATS = ("JPEG", "PNG", "WEBP")

MAX_PIXELS = 40_000_000
IMAGE_SIZE = 1600
THUMB_SIZE = 320
QUALITY = 80


class PhotoRejected(Exception):
    """A photo refused for what it is; `message` is French, for the agent."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Processed:
    image: bytes  # JPEG, at most IMAGE_SIZE px on its longer side
    thumbnail: bytes  # JPEG, at most THUMB_SIZE px
    size: tuple[int, int]


def process(data: bytes) -> Processed:
    """Check and convert a photo's bytes into a clean JPEG and its thumbnail."""
    if not data:
        raise PhotoRejected("Le fichier photo est vide (0 octet).")
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _convert(data)
        except PhotoRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _too_big() from exc
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError,
                KeyError, MemoryError) as exc:  # what Pillow raises on broken files
            raise PhotoRejected("La photo est tronquée ou illisible : reprenez-la.") from exc


def _convert(data: bytes) -> Processed:
    image = _flatten(_decode(data))
    image.thumbnail((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
    thumb = image.copy()
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE), Image.Resampling.LANCZOS)
    return Processed(image=_jpeg(image), thumbnail=_jpeg(thumb), size=image.size)


def _decode(data: bytes) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError as exc:
        raise PhotoRejected(
            "Ce fichier n'est pas une photo acceptée (JPEG, PNG, WebP ou HEIC).") from exc
    if img.width * img.height > MAX_PIXELS:  # checked on the header, before decoding
        raise _too_big()
    if img.format == "JPEG":
        img.draft("RGB", (IMAGE_SIZE, IMAGE_SIZE))  # decode at a reduced scale: faster
    img.load()
    return ImageOps.exif_transpose(img)


def _flatten(img: Image.Image) -> Image.Image:
    """A fresh RGB image (no EXIF, GPS, ICC or text carried over), alpha laid on white."""
    out = Image.new("RGB", img.size, "white")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        out.paste(rgba, mask=rgba.getchannel("A"))
    else:
        out.paste(img.convert("RGB"))
    return out


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return buf.getvalue()


def _too_big() -> PhotoRejected:
    return PhotoRejected(
        f"La photo est trop grande (plus de {MAX_PIXELS // 1_000_000} mégapixels).")
