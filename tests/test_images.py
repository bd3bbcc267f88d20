"""Photo processing: upright, stripped, flattened, resized; every bad input is a PhotoRejected."""

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from sync.images import MAX_PIXELS, PhotoRejected, process

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_bytes(img: Image.Image, exif: Image.Exif | None = None, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif or Image.Exif(), **params)
    return buf.getvalue()


def quadrants(width: int = 400, height: int = 200) -> Image.Image:
    """Red on the left half, blue on the right: any rotation moves the colours."""
    img = Image.new("RGB", (width, height), "blue")
    img.paste(Image.new("RGB", (width // 2, height), "red"), (0, 0))
    return img


def gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "TabletMaker"
    if orientation:
        exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (14.0, 41.0, 30.0), 3: "W", 4: (17.0, 26.0, 50.0)})
    return exif


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` × `height`, with (almost) no pixel data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def bad_exif_jpeg() -> bytes:
    """A small JPEG that makes ImageOps.exif_transpose raise struct.error: Orientation 6,
    and a ResolutionUnit typed LONG whose value cannot be written back as the SHORT that
    Pillow re-encodes it as once it has removed the Orientation."""
    entries = [(ORIENTATION, 3, 1, struct.pack("<HH", 6, 0)),  # SHORT 6
               (0x0128, 4, 1, struct.pack("<I", 0x06060606))]  # LONG, far past 65535
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, kind, count) + value for tag, kind, count, value in entries)
    tiff = b"II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)
    app1 = b"Exif\0\0" + tiff
    plain = jpeg_bytes(Image.new("RGB", (8, 8), "red"))
    return plain[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + plain[2:]


def is_red(pixel) -> bool:
    r, g, b = pixel[:3]
    return r > 200 and g < 60 and b < 60


def is_blue(pixel) -> bool:
    r, g, b = pixel[:3]
    return b > 200 and r < 60 and g < 60


def test_it_applies_the_exif_orientation_to_the_pixels():
    # Orientation 6: the camera was turned; shown upright, the left (red) half is on top.
    out = Image.open(io.BytesIO(process(jpeg_bytes(quadrants(), gps_exif(6))).image))
    assert out.size == (200, 400)
    assert is_red(out.getpixel((100, 50))) and is_blue(out.getpixel((100, 350)))
    assert out.getexif().get(ORIENTATION) is None


def test_it_removes_gps_and_every_exif_tag_from_the_stored_bytes():
    source = jpeg_bytes(quadrants(), gps_exif())
    assert b"TabletMaker" in source and Image.open(io.BytesIO(source)).getexif().get_ifd(GPS_IFD)
    processed = process(source)
    for data in (processed.image, processed.thumbnail):
        assert b"Exif" not in data and b"TabletMaker" not in data
        assert not Image.open(io.BytesIO(data)).getexif()
        assert Image.open(io.BytesIO(data)).info.get("exif") is None


def test_it_flattens_a_png_alpha_onto_white():
    img = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    img.paste(Image.new("RGBA", (50, 100), (255, 0, 0, 255)), (0, 0))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    out = Image.open(io.BytesIO(process(buf.getvalue()).image))
    assert out.mode == "RGB" and out.format == "JPEG"
    assert is_red(out.getpixel((10, 50)))
    assert min(out.getpixel((90, 50))) > 240  # transparent became white, not black


def test_it_shrinks_to_1600_and_makes_a_320_thumbnail():
    processed = process(jpeg_bytes(quadrants(3200, 1800)))
    assert Image.open(io.BytesIO(processed.image)).size == (1600, 900)
    assert Image.open(io.BytesIO(processed.thumbnail)).size == (320, 180)


def test_it_keeps_a_small_photo_at_its_size():
    assert process(jpeg_bytes(quadrants(640, 480))).size == (640, 480)


def test_it_accepts_webp_and_heic():
    for fmt in ("WEBP", "HEIF"):
        buf = io.BytesIO()
        quadrants().save(buf, fmt)
        assert process(buf.getvalue()).size == (400, 200)


@pytest.mark.parametrize("data, code", [
    (b"", "photo_empty"),
    (b"Bonjour, ceci n'est pas une photo.\n" * 20, "photo_not_image"),
    (png_header(8000, 8000), "photo_too_big"),  # 64 MP claimed by a 100-byte file
    (png_header(100_000, 100_000), "photo_too_big"),  # past Pillow's own bomb limit
])
def test_it_rejects_bad_input_with_a_code(data, code):
    with pytest.raises(PhotoRejected) as exc:
        process(data)
    assert exc.value.code == code


def test_it_rejects_a_truncated_jpeg():
    data = jpeg_bytes(Image.effect_noise((800, 600), 64).convert("RGB"), quality=95)
    with pytest.raises(PhotoRejected) as exc:
        process(data[: len(data) // 2])
    assert exc.value.code == "photo_unreadable"


def test_it_rejects_unsupported_formats():
    buf = io.BytesIO()
    quadrants().save(buf, "GIF")
    with pytest.raises(PhotoRejected) as exc:
        process(buf.getvalue())
    assert exc.value.code == "photo_not_image"


def test_it_rejects_exif_that_makes_pillow_raise_struct_error():
    data = bad_exif_jpeg()
    img = Image.open(io.BytesIO(data))
    with pytest.raises(struct.error):  # undocumented: what the old except-list let through
        ImageOps.exif_transpose(img)
    with pytest.raises(PhotoRejected) as exc:
        process(data)
    assert exc.value.code == "photo_unreadable"


SHORT_OF_MEMORY = """
import io, resource
from PIL import Image
from sync.images import PhotoRejected, process
buf = io.BytesIO()
Image.new("RGB", (6000, 6000), "red").save(buf, "PNG")  # 36 MP: 108 MB once decoded
with open("/proc/self/statm") as f:
    used = int(f.read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (used + 60 * 2**20, resource.RLIM_INFINITY))
try:
    process(buf.getvalue())
except MemoryError:
    print("MemoryError")
except PhotoRejected as exc:
    print(exc.code)
"""


def test_it_lets_memory_error_through_for_another_attempt():
    # A worker short of memory (here: a real allocation limit) is not the photo's fault.
    out = subprocess.run([sys.executable, "-c", SHORT_OF_MEMORY], capture_output=True,
                         text=True, timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.strip() == "MemoryError", out.stderr[-2000:]


def test_it_refuses_just_over_40_megapixels_before_decoding():
    width = 8000
    height = MAX_PIXELS // width + 1
    with pytest.raises(PhotoRejected):
        process(png_header(width, height))


def test_it_rejects_a_png_with_a_broken_body():
    with pytest.raises(PhotoRejected) as exc:
        process(png_header(300, 300))  # IDAT far too short for 300 × 300
    assert exc.value.code == "photo_unreadable"


def test_it_survives_200_seeded_mutations_of_every_format():
    """bench/imagefuzz.py, bounded: 50 mutants per format. With this seed the except-list
    that images.process had before let two struct.error through."""
    from bench import imagefuzz

    tallies = imagefuzz.fuzz(50, seed=31)
    assert set(tallies) == {"JPEG", "PNG", "WEBP", "HEIF"}
    for fmt, tally in tallies.items():
        assert tally.runs == 50 and not tally.uncaught, (fmt, tally.uncaught)
        assert tally.accepted + sum(tally.rejected.values()) == 50
        assert set(tally.rejected) <= {"photo_empty", "photo_not_image", "photo_unreadable",
                                       "photo_too_big"}


# --- the device's JPEG kept as it is (sync/jpeg.py), or encoded again -----------------------

def device_like(width: int = 800, height: int = 600, **params) -> Image.Image:
    """A photo-like picture the app could send: smooth colours, some detail."""
    img = Image.merge("RGB", [Image.linear_gradient("L").resize((width, height)),
                              Image.radial_gradient("L").resize((width, height)),
                              Image.effect_noise((width, height), 20)])
    return img


def with_segments(data: bytes, *segments: tuple[int, bytes]) -> bytes:
    """`data` with APPn / COM segments inserted after its SOI (and JFIF header)."""
    raw = b"".join(b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body
                   for marker, body in segments)
    return data[:2] + raw + data[2:]


def scan_data(data: bytes) -> bytes:
    """From the first SOS marker to the end of the image: what a decoder decodes."""
    return data[data.index(b"\xff\xda"):data.rindex(b"\xff\xd9") + 2]


def test_it_keeps_a_fitting_jpeg_byte_for_byte_without_its_metadata():
    source = with_segments(
        jpeg_bytes(device_like(), gps_exif(1), quality=80, icc_profile=b"\0" * 600),
        (0xFE, b"agent 42, warehouse Yiwu"),  # COM
        (0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>TabletMaker</x:xmpmeta>"))
    assert b"TabletMaker" in source and b"Yiwu" in source
    processed = process(source)
    assert processed.kept and processed.size == (800, 600)
    assert scan_data(processed.image) == scan_data(source)  # the image data is not re-encoded
    for gone in (b"Exif", b"TabletMaker", b"Yiwu", b"ICC_PROFILE", b"xmpmeta"):
        assert gone not in processed.image
    stored, original = Image.open(io.BytesIO(processed.image)), Image.open(io.BytesIO(source))
    assert not stored.getexif() and "icc_profile" not in stored.info
    assert "comment" not in stored.info
    assert stored.tobytes() == original.tobytes()  # identical pixels
    thumb = Image.open(io.BytesIO(processed.thumbnail))
    assert thumb.size == (320, 240) and not thumb.getexif() and "comment" not in thumb.info


def test_it_keeps_a_progressive_jpeg_and_drops_what_follows_its_end():
    buf = io.BytesIO()
    device_like(640, 480).save(buf, "JPEG", quality=75, progressive=True)  # JFIF, no EXIF
    source = buf.getvalue()
    processed = process(source + b"trailing bytes: another picture, say")
    assert processed.kept and processed.image == source
    assert Image.open(io.BytesIO(processed.image)).tobytes() == \
        Image.open(io.BytesIO(source)).tobytes()


@pytest.mark.parametrize("why, source, size", [
    ("turned", jpeg_bytes(device_like(), gps_exif(6), quality=80), (600, 800)),
    ("too large", jpeg_bytes(device_like(2000, 1500), quality=80), (1600, 1200)),
    ("too heavy", jpeg_bytes(Image.effect_noise((400, 300), 90).convert("RGB"), quality=100),
     (400, 300)),
    ("CMYK", jpeg_bytes(device_like().convert("CMYK"), quality=80), (800, 600)),
])
def test_it_encodes_again_a_jpeg_that_does_not_fit(why, source, size):
    processed = process(source)
    assert not processed.kept, why
    assert processed.size == size and Image.open(io.BytesIO(processed.image)).size == size
    assert b"Exif" not in processed.image and b"TabletMaker" not in processed.image
    assert len(processed.image) != len(source)


def test_it_stores_a_webp_as_a_jpeg():
    buf = io.BytesIO()
    device_like(1600, 1200).save(buf, "WEBP", quality=90, exif=gps_exif(1).tobytes())
    processed = process(buf.getvalue())
    assert not processed.kept and processed.size == (1600, 1200)
    for data, size in ((processed.image, (1600, 1200)), (processed.thumbnail, (320, 240))):
        out = Image.open(io.BytesIO(data))
        assert out.format == "JPEG" and out.size == size and not out.getexif()
        assert b"TabletMaker" not in data


def fitting_jpeg() -> bytes:
    data = jpeg_bytes(device_like(), quality=80)
    assert process(data).kept
    return data


@pytest.mark.parametrize("cut", [
    lambda d: d[:len(d) // 2],  # truncated: no end of image
    lambda d: d[:len(d) // 2] + b"\0" * (len(d) // 2),  # the rest lost, padded
    lambda d: d[:-2],  # only the end marker missing
    lambda d: d[:200],  # cut in the headers
])
def test_it_refuses_a_broken_jpeg_that_would_have_fitted(cut):
    with pytest.raises(PhotoRejected) as exc:
        process(cut(fitting_jpeg()))
    assert exc.value.code == "photo_unreadable"


def test_it_gives_up_on_the_marker_walk_for_anything_but_a_plain_jpeg():
    from sync import jpeg

    plain = fitting_jpeg()
    assert jpeg.strip(plain) is not None
    sof = plain.index(b"\xff\xc0")
    assert jpeg.strip(plain[:sof] + b"\xff\xc9" + plain[sof + 2:]) is None  # arithmetic
    assert jpeg.strip(plain[:sof] + plain[sof:sof + 4] + b"\x0c" + plain[sof + 5:]) is None
    assert jpeg.strip(plain[:-2]) is None  # no end of image
    assert jpeg.strip(b"\xff\xd8\xff\xe0\x00\x01") is None  # a length shorter than itself
    assert jpeg.strip(b"\xff\xd8\xff\xe0\xff\xff") is None  # a length past the end


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's words on corrupt EXIF
def test_it_survives_mutations_of_a_jpeg_it_would_keep():
    """bench/imagefuzz.py's mutations on a JPEG that takes the marker walk (EXIF orientation
    1, a comment, an ICC profile): each ends accepted or refused with a code. An accepted one
    kept as it came decodes whole."""
    import random

    from bench import imagefuzz

    seed = with_segments(jpeg_bytes(device_like(160, 120), gps_exif(1), quality=80,
                                    icc_profile=b"\0" * 200), (0xFE, b"colis"))
    assert process(seed).kept
    rng, kept = random.Random(17), 0
    for _ in range(150):
        data, names = imagefuzz.mutate(rng, seed, "JPEG")
        try:
            processed = process(data)
        except PhotoRejected as exc:
            assert exc.code in {
                "photo_empty", "photo_not_image", "photo_unreadable", "photo_too_big"}, names
            continue
        if processed.kept:
            kept += 1
            Image.open(io.BytesIO(processed.image)).load()
            assert b"TabletMaker" not in processed.image and b"colis" not in processed.image
    assert kept  # the walk was taken, not only refused
