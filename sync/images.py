"""Photo processing with Pillow: checked, turned upright, stripped, resized. No Django here.

Every bad input (not an image, an unsupported format, a truncated file, zero bytes, a
decompression bomb, metadata Pillow chokes on) raises PhotoRejected with a code that the
pages and the PWA render in the viewer's language; nothing else escapes for bad input, so
a worker never crashes on a photo. Only MemoryError passes through (see `process`).
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


# The codes a photo can be refused with, stored in Colis.photo_error (rendered by
# server/web/templatetags/photo_errors.py and pwa/js/codes.js).
EMPTY = "photo_empty"  # zero bytes
NOT_IMAGE = "photo_not_image"  # not one of FORMATS
UNREADABLE = "photo_unreadable"  # truncated, corrupt, or metadata Pillow cannot handle
TOO_BIG = "photo_too_big"  # more than MAX_PIXELS


class PhotoRejected(Exception):
    """A photo refused for what it is; `code` says why (one of the codes above)."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class Processed:
    image: bytes  # JPEG, at most IMAGE_SIZE px on its longer side
    thumbnail: bytes  # JPEG, at most THUMB_SIZE px
    size: tuple[int, int]


def process(data: bytes) -> Processed:
    """Check and convert a photo's bytes into a clean JPEG and its thumbnail."""
    if not data:
        raise PhotoRejected(EMPTY)
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _convert(data)
        except PhotoRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PhotoRejected(TOO_BIG) from exc
        except MemoryError:
            # Not the photo's fault: the pixels are bounded (MAX_PIXELS, checked on the
            # header), so this worker was short of memory. The caller counts it as a failed
            # attempt and the sweeper tries again, up to PHOTO_MAX_ATTEMPTS.
            raise
        except Exception as exc:  # noqa: BLE001 - Pillow raises more than it documents
            # (struct.error, AttributeError, OverflowError… from odd EXIF); on these bytes
            # any of it means a photo we cannot read.
            raise PhotoRejected(UNREADABLE) from exc


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
        raise PhotoRejected(NOT_IMAGE) from exc
    if img.width * img.height > MAX_PIXELS:  # checked on the header, before decoding
        raise PhotoRejected(TOO_BIG)
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

