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

from . import jpeg

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
# A device JPEG heavier than this (2 bits a pixel: quality 95 and up) is encoded again at
# QUALITY rather than kept: the stored photo stays about the size the app means to send.
KEEP_MAX_BYTES_PER_PIXEL = 0.25
ORIENTATION = 0x0112


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
    kept: bool = False  # `image` is the device's own JPEG, its metadata stripped (no re-encode)


def process(data: bytes) -> Processed:
    """Check and convert a photo's bytes into a clean JPEG and its thumbnail.

    A JPEG that already fits (see `_keepable`) is kept as the device encoded it, its
    metadata stripped (sync/jpeg.py); it is still decoded once, at the thumbnail's reduced
    scale, so a truncated or broken file is refused as any other. Every other photo
    (turned, too large, too heavy, PNG, WebP, HEIF) is decoded and encoded again."""
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
    img = _open(data)
    kept = _keepable(img, data)
    if kept is not None:
        return _pass_through(kept, img.size)
    if img.format == "JPEG":
        img.draft("RGB", fit(img.size, IMAGE_SIZE))  # decoded at a reduced scale: faster
    img.load()
    ImageOps.exif_transpose(img, in_place=True)
    image = _flatten(img)
    if max(image.size) > IMAGE_SIZE:
        image = image.resize(fit(image.size, IMAGE_SIZE), Image.Resampling.LANCZOS,
                             reducing_gap=3.0)
    return Processed(image=_jpeg(image), thumbnail=_jpeg(_thumbnail(image)), size=image.size)


def fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    """`size` shrunk to fit a `box`-pixel square, its proportions kept (never enlarged)."""
    width, height = size
    if max(width, height) <= box:
        return size
    if width >= height:
        return box, max(1, round(height * box / width))
    return max(1, round(width * box / height)), box


def _open(data: bytes) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError as exc:
        raise PhotoRejected(NOT_IMAGE) from exc
    if img.width * img.height > MAX_PIXELS:  # checked on the header, before decoding
        raise PhotoRejected(TOO_BIG)
    return img


def _keepable(img: Image.Image, data: bytes) -> bytes | None:
    """The device's JPEG without its metadata, when it can be stored as it is: a plain
    JPEG (sync/jpeg.py), colour or grey, no larger than IMAGE_SIZE, upright (no EXIF
    orientation but 1), and once stripped no heavier than KEEP_MAX_BYTES_PER_PIXEL.
    Else None."""
    if (img.format != "JPEG" or img.mode not in ("RGB", "L") or max(img.size) > IMAGE_SIZE
            or img.getexif().get(ORIENTATION, 1) != 1):
        return None
    kept = jpeg.strip(data)
    if kept is None or len(kept) > KEEP_MAX_BYTES_PER_PIXEL * img.width * img.height:
        return None
    return kept


def _pass_through(kept: bytes, size: tuple[int, int]) -> Processed:
    """Keep `kept` as the image. Its one decode, at the thumbnail's scale (Pillow's draft:
    libjpeg still reads every scan), proves it whole and makes the thumbnail."""
    img = Image.open(io.BytesIO(kept), formats=("JPEG",))
    if img.size != size:
        raise PhotoRejected(UNREADABLE)
    img.draft("RGB", fit(size, THUMB_SIZE))
    img.load()  # a truncated or broken scan raises here
    return Processed(image=kept, thumbnail=_jpeg(_thumbnail(img)), size=size, kept=True)


def _thumbnail(img: Image.Image) -> Image.Image:
    thumb = img.convert("RGB") if img.mode != "RGB" else img
    if max(thumb.size) > THUMB_SIZE:
        # Box-averaged by the whole factor first, then Lanczos for the rest: 1600 → 320 px
        # in ~1 ms rather than ~8 (reducing_gap 2.0), no aliasing at a thumbnail's size.
        thumb = thumb.resize(fit(thumb.size, THUMB_SIZE), Image.Resampling.LANCZOS,
                             reducing_gap=1.0)
    thumb.info = {}  # a comment in `info` would be written again
    return thumb


def _flatten(img: Image.Image) -> Image.Image:
    """RGB with nothing carried over (no EXIF, GPS, ICC or text), alpha laid on white.
    `img` is this module's own: an RGB one is returned, its `info` emptied."""
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        out = Image.new("RGB", img.size, "white")
        rgba = img.convert("RGBA")
        out.paste(rgba, mask=rgba.getchannel("A"))
    else:
        out = img.convert("RGB") if img.mode != "RGB" else img
    out.info = {}  # Pillow writes `info`'s comment again; the rest is dropped with it
    return out


def _jpeg(img: Image.Image) -> bytes:
    # Optimised Huffman tables: as small as progressive (±0.1 %) at half its encoding time.
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=QUALITY, optimize=True)
    return buf.getvalue()
