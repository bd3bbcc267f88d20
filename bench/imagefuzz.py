"""Image fuzzing: seeded, bounded mutations of JPEG, PNG, WebP and HEIC files made with
Pillow and pillow-heif, each through `sync.images.process`, the code every photo goes
through on the server. Every outcome must be a Processed image or a PhotoRejected with a
code; anything else (an uncaught exception, MemoryError included, or a hang) is a finding.

    python -m bench.run imagefuzz          # 20,000 mutants per format, section in RESULTS.md
    python -m bench.imagefuzz [N] [SEED]   # N per format, counts printed, nothing written

The mutators: bit flips, byte inserts, deletes and overwrites, truncation, and format-aware
tweaks: EXIF IFD entries given other types, counts and values (the struct.error found by
testing came from there), JPEG segment lengths and frame sizes, PNG chunks with a fixed CRC
(so the mutation gets past the check), RIFF/WebP chunk sizes and VP8X canvas, ISOBMFF
(HEIC) box sizes and the `ispe` image size. One to three of them per mutant.
"""

import io
import random
import signal
import struct
import sys
import time
import warnings
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from sync import images

HERE = Path(__file__).resolve().parent
FINDINGS = HERE.parent / "var" / "bench" / "imagefuzz"  # the uncaught ones, to replay
HANG_SECONDS = 20
# What images.process caught before the fix: a refusal caused by anything else escaped.
OLD_CATCH = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError,
             MemoryError)
ORIENTATION, GPS_IFD = 0x0112, 0x8825


# Seeds: small real files, each with metadata for the tweaks to bite on.

def _exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "TabletMaker"
    exif[ORIENTATION] = orientation
    exif[0x011A] = 72.0  # XResolution, a RATIONAL
    exif[0x0128] = 2  # ResolutionUnit, a SHORT
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (14.0, 41.0, 30.0), 3: "W", 4: (17.0, 26.0, 50.0)})
    return exif


def _picture(mode: str = "RGB", size: tuple[int, int] = (96, 64)) -> Image.Image:
    rng = random.Random(7)
    img = Image.new(mode, size, "white")
    for _ in range(12):  # a few blocks of colour: the codecs have something to encode
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        colour = tuple(rng.randrange(256) for _ in mode)
        img.paste(Image.new(mode, (rng.randrange(4, 40), rng.randrange(4, 30)), colour), (x, y))
    return img


def seeds() -> dict[str, list[bytes]]:
    """Per format, a few valid files (progressive JPEG, PNG with alpha and text, …)."""
    out: dict[str, list[bytes]] = {}

    def save(img: Image.Image, fmt: str, **params) -> bytes:
        buf = io.BytesIO()
        img.save(buf, fmt, **params)
        return buf.getvalue()

    rgb, rgba = _picture(), _picture("RGBA")
    out["JPEG"] = [save(rgb, "JPEG", exif=_exif()), save(rgb, "JPEG", progressive=True,
                                                         exif=_exif(3), quality=60),
                   save(_picture("L"), "JPEG")]
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "colis")
    out["PNG"] = [save(rgba, "PNG", pnginfo=text), save(rgb, "PNG", exif=_exif(8)),
                  save(rgb.convert("P"), "PNG", transparency=0)]
    out["WEBP"] = [save(rgb, "WEBP", exif=_exif()), save(rgba, "WEBP", lossless=True),
                   save(rgb, "WEBP", quality=30)]
    out["HEIF"] = [save(rgb, "HEIF", exif=_exif()), save(rgba, "HEIF")]
    return out


# Mutators: each takes (rng, data) and returns new bytes.

def bit_flips(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return bytes(buf)


def byte_insert(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.randint(1, 32)) + data[at:]


def byte_delete(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 64):]


def byte_overwrite(rng: random.Random, data: bytes) -> bytes:
    """Interesting values (0, 0xff, 0x7f, 0x80, …) over a few bytes."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(buf))
        value = rng.choice([b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff", b"\x00\x00\x00\x00",
                            b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00"])
        buf[at:at + len(value)] = value
    return bytes(buf)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(len(data))]


def exif_tweak(rng: random.Random, data: bytes) -> bytes:
    """An IFD entry of the EXIF block (IFD0 or the GPS IFD) given another type (most
    often with one value that the type Pillow writes back may not hold), count or value."""
    start = data.find(b"Exif\x00\x00")
    tiff = start + 6 if start >= 0 else data.find(b"II*\x00")
    entries = _ifd_entries(data, tiff) if tiff >= 0 else []
    if not entries:
        return bit_flips(rng, data)
    entry, order = rng.choice(entries)
    buf = bytearray(data)
    move = rng.choices(["retype", "count", "value", "all"], [50, 20, 15, 15])[0]
    if move in ("retype", "all"):
        buf[entry + 2:entry + 4] = struct.pack(order + "H", rng.choice(
            [*range(0, 14), 16, 17, 18, 0xFFFF]))
    if move == "retype":
        buf[entry + 4:entry + 8] = struct.pack(order + "I", 1)
    if move in ("count", "all"):
        buf[entry + 4:entry + 8] = struct.pack(order + "I", rng.choice(
            [0, 1, 2, 3, 255, 65536, 0x7FFFFFFF, 0xFFFFFFFF, rng.randrange(1 << 32)]))
    if move in ("retype", "value", "all"):
        buf[entry + 8:entry + 12] = rng.randbytes(4)
    return bytes(buf)


def _ifd_entries(data: bytes, tiff: int) -> list[tuple[int, str]]:
    """Offsets of the 12-byte entries of IFD0 and of the GPS IFD it points to."""
    if tiff + 8 > len(data) or data[tiff:tiff + 2] not in (b"II", b"MM"):
        return []
    order = "<" if data[tiff:tiff + 2] == b"II" else ">"
    out: list[tuple[int, str]] = []
    ifds = [tiff + struct.unpack(order + "I", data[tiff + 4:tiff + 8])[0]]
    while ifds and len(out) < 200:
        ifd = ifds.pop()
        if ifd + 2 > len(data):
            continue
        count = struct.unpack(order + "H", data[ifd:ifd + 2])[0]
        for i in range(count):
            entry = ifd + 2 + 12 * i
            if entry + 12 > len(data):
                break
            out.append((entry, order))
            if data[entry:entry + 2] == struct.pack(order + "H", GPS_IFD) and len(ifds) < 2:
                ifds.append(tiff + struct.unpack(order + "I", data[entry + 8:entry + 12])[0])
    return out


def jpeg_tweak(rng: random.Random, data: bytes) -> bytes:
    """A marker segment's length, or the frame's height, width or components."""
    segments, at = [], 2
    while at + 4 <= len(data) and data[at] == 0xFF and data[at + 1] not in (0xD9, 0xDA):
        segments.append(at)
        at += 2 + struct.unpack(">H", data[at + 2:at + 4])[0]
    if not segments:
        return bit_flips(rng, data)
    buf = bytearray(data)
    frames = [s for s in segments if buf[s + 1] in (0xC0, 0xC1, 0xC2)]
    if frames and rng.random() < 0.5:
        sof = rng.choice(frames)
        field_at = sof + rng.choice([5, 7, 9])  # height, width, components
        size = 1 if field_at == sof + 9 else 2
        buf[field_at:field_at + size] = rng.choice([b"\x00\x00", b"\xff\xff", b"\x7f\xff",
                                                    rng.randbytes(2)])[:size]
    else:
        seg = rng.choice(segments)
        buf[seg + 2:seg + 4] = struct.pack(">H", rng.choice([0, 1, 2, 0xFFFF, rng.randrange(65536)]))
    return bytes(buf)


def png_tweak(rng: random.Random, data: bytes) -> bytes:
    """A chunk's data changed with its CRC fixed, its length changed, or the chunk dropped
    or repeated; IHDR's size and depth are among the targets."""
    chunks, at = [], 8
    while at + 12 <= len(data):
        length = struct.unpack(">I", data[at:at + 4])[0]
        if at + 12 + length > len(data):
            break
        chunks.append((at, length))
        at += 12 + length
    if not chunks:
        return bit_flips(rng, data)
    at, length = rng.choice(chunks)
    whole = data[at:at + 12 + length]
    move = rng.choice(["data", "length", "drop", "repeat"])
    if move == "data" and length:
        body = bytearray(whole[8:8 + length])
        for _ in range(rng.randint(1, 4)):
            body[rng.randrange(length)] = rng.randrange(256)
        kind = whole[4:8]
        whole = (whole[:8] + bytes(body) + struct.pack(">I", zlib.crc32(kind + bytes(body))))
    elif move == "length":
        whole = struct.pack(">I", rng.choice([0, length + 1, max(length - 1, 0), 0x7FFFFFFF,
                                              0xFFFFFFFF])) + whole[4:]
    elif move == "drop":
        whole = b""
    else:
        whole = whole * 2
    return data[:at] + whole + data[at + 12 + length:]


def riff_tweak(rng: random.Random, data: bytes) -> bytes:
    """WebP: the RIFF size, a chunk's size, or VP8X's flags and canvas size."""
    if data[:4] != b"RIFF" or len(data) < 20:
        return bit_flips(rng, data)
    buf = bytearray(data)
    chunks, at = [], 12
    while at + 8 <= len(buf):
        chunks.append(at)
        at += 8 + struct.unpack("<I", buf[at + 4:at + 8])[0] + (struct.unpack(
            "<I", buf[at + 4:at + 8])[0] & 1)
    choice = rng.random()
    vp8x = [c for c in chunks if buf[c:c + 4] == b"VP8X"]
    if vp8x and choice < 0.3:
        c = vp8x[0]
        if rng.random() < 0.5:
            buf[c + 8] = rng.randrange(256)  # flags: alpha, EXIF, ICC, animation…
        else:
            buf[c + 12:c + 18] = rng.randbytes(6)  # canvas width - 1, height - 1 (24 bits)
    elif choice < 0.5:
        buf[4:8] = struct.pack("<I", rng.choice([0, 4, len(buf), 0xFFFFFFFF, rng.randrange(1 << 32)]))
    else:
        c = rng.choice(chunks)
        buf[c + 4:c + 8] = struct.pack("<I", rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF,
                                                         rng.randrange(len(buf) * 2)]))
    return bytes(buf)


def isobmff_tweak(rng: random.Random, data: bytes) -> bytes:
    """HEIC: a box's size (at any depth found by a scan for known box types), or the
    width and height of an `ispe` box."""
    buf = bytearray(data)
    kinds = [b"ftyp", b"meta", b"hdlr", b"pitm", b"iloc", b"iinf", b"infe", b"iprp", b"ipco",
             b"ispe", b"hvcC", b"ipma", b"mdat", b"iref", b"colr", b"pixi", b"Exif"]
    found = [i - 4 for kind in kinds for i in _find_all(data, kind) if i >= 4]
    ispe = [i for i in _find_all(data, b"ispe")]
    if ispe and rng.random() < 0.3:
        at = rng.choice(ispe) + 8  # after version/flags
        buf[at:at + 8] = rng.choice([b"\x00" * 8, b"\xff" * 8, rng.randbytes(8),
                                     struct.pack(">II", 100_000, 100_000)])
    elif found:
        at = rng.choice(found)
        buf[at:at + 4] = struct.pack(">I", rng.choice([0, 1, 7, 8, 0xFFFFFFFF,
                                                       rng.randrange(len(buf) * 2)]))
    else:
        return bit_flips(rng, data)
    return bytes(buf)


def _find_all(data: bytes, needle: bytes) -> list[int]:
    out, at = [], data.find(needle)
    while at >= 0:
        out.append(at)
        at = data.find(needle, at + 1)
    return out


GENERIC: list[Callable] = [bit_flips, byte_insert, byte_delete, byte_overwrite, truncate]
AWARE: dict[str, list[Callable]] = {
    "JPEG": [exif_tweak, exif_tweak, jpeg_tweak],
    "PNG": [png_tweak, png_tweak, exif_tweak],
    "WEBP": [riff_tweak, riff_tweak, exif_tweak],
    "HEIF": [isobmff_tweak, isobmff_tweak, exif_tweak],
}


def mutate(rng: random.Random, data: bytes, fmt: str) -> tuple[bytes, list[str]]:
    """One to three mutations, half of them format-aware; and their names."""
    names = []
    for _ in range(rng.randint(1, 3)):
        fn = rng.choice(AWARE[fmt] if rng.random() < 0.5 else GENERIC)
        data = fn(rng, data) if data else data
        names.append(fn.__name__)
    return data, names


# The run.

class Hang(Exception):
    pass


@dataclass
class Tally:
    runs: int = 0
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    uncaught: Counter = field(default_factory=Counter)
    escaped_before: Counter = field(default_factory=Counter)  # by the refusal's cause
    slowest_ms: float = 0.0
    times: list = field(default_factory=list)


def _alarm(signum, frame):
    raise Hang


def fuzz(per_format: int, seed: int = 20261203, keep: Path | None = None) -> dict[str, Tally]:
    """Run `per_format` mutants of each format through images.process; the tallies.
    Uncaught mutants are written to `keep` (if given) to be replayed."""
    warnings.filterwarnings("ignore", category=UserWarning, module="PIL")  # corrupt EXIF…
    rng = random.Random(seed)
    tallies = {}
    old = signal.signal(signal.SIGALRM, _alarm) if hasattr(signal, "SIGALRM") else None
    try:
        for fmt, files in seeds().items():
            tally = tallies[fmt] = Tally()
            for n in range(per_format):
                data, names = mutate(rng, rng.choice(files), fmt)
                outcome = _one(data)
                if outcome[2]:
                    tally.escaped_before[outcome[2]] += 1
                tally.runs += 1
                tally.times.append(outcome[1])
                tally.slowest_ms = max(tally.slowest_ms, outcome[1])
                if outcome[0] == "accepted":
                    tally.accepted += 1
                elif outcome[0].startswith("photo_"):
                    tally.rejected[outcome[0]] += 1
                else:
                    tally.uncaught[outcome[0]] += 1
                    if keep is not None:
                        keep.mkdir(parents=True, exist_ok=True)
                        (keep / f"{fmt.lower()}-{n}-{'+'.join(names)}.bin").write_bytes(data)
    finally:
        if old is not None:
            signal.signal(signal.SIGALRM, old)
    return tallies


def _one(data: bytes) -> tuple[str, float, str]:
    """What images.process made of these bytes, how long it took (ms), and the cause of a
    refusal that the except-list of before the fix would have let escape ("" if none)."""
    t0 = time.perf_counter()
    escaped = ""
    if hasattr(signal, "SIGALRM"):
        signal.alarm(HANG_SECONDS)
    try:
        images.process(data)
        what = "accepted"
    except images.PhotoRejected as exc:
        what = exc.code
        cause = exc.__cause__
        if cause is not None and not isinstance(cause, (OLD_CATCH, images.PhotoRejected,
                                                        Image.DecompressionBombError,
                                                        Image.DecompressionBombWarning)):
            escaped = _name(cause)
    except Hang:
        what = f"hang over {HANG_SECONDS} s"
    except BaseException as exc:  # noqa: BLE001 - the findings (MemoryError counts: small files)
        what = _name(exc)
    finally:
        if hasattr(signal, "SIGALRM"):
            signal.alarm(0)
    return what, (time.perf_counter() - t0) * 1000, escaped


def _name(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")


def _median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2] if values else 0.0


def markdown(tallies: dict[str, Tally], per_format: int, seed: int, elapsed: float) -> str:
    names = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC"}
    codes = sorted({c for t in tallies.values() for c in t.rejected})
    rows = ["| format | runs | accepted | " + " | ".join(f"`{c}`" for c in codes)
            + " | uncaught | escaped before the fix | median / slowest ms |",
            "|---|" + "---|" * (len(codes) + 5)]
    for fmt, t in tallies.items():
        rows.append(f"| {names[fmt]} | {t.runs} | {t.accepted} | "
                    + " | ".join(str(t.rejected[c]) for c in codes)
                    + f" | {sum(t.uncaught.values())} | {sum(t.escaped_before.values())}"
                    + f" | {_median(t.times):.1f} / "
                      f"{t.slowest_ms:.0f} |")
    uncaught, escaped = Counter(), Counter()
    for t in tallies.values():
        uncaught += t.uncaught
        escaped += t.escaped_before
    total = sum(uncaught.values())
    found = ", ".join(f"`{k}` ×{v}" for k, v in uncaught.items()) or "none"
    return f"""## Image fuzzing

`bench/imagefuzz.py`: {per_format} seeded mutants per format (seed {seed}) of small JPEG,
PNG, WebP and HEIC files made with Pillow and pillow-heif (EXIF with GPS and Orientation,
alpha, palette, progressive), each through `sync.images.process`. One to three mutations
per mutant: bit flips, byte inserts, deletes and overwrites, truncation, and format-aware
tweaks (EXIF IFD entry types, counts and values; JPEG segment lengths and frame size; PNG
chunks with their CRC fixed, dropped or repeated; WebP RIFF/VP8X sizes and flags; HEIC box
sizes and `ispe`). Rejections are counted by the code stored in `Colis.photo_error`.

{chr(10).join(rows)}

Uncaught exceptions (MemoryError and hangs over {HANG_SECONDS} s included): **{total}**
(target 0: **{"met" if total == 0 else "missed"}**). By type: {found}.
"Escaped before the fix": refusals whose cause the former except-list of `images.process`
(OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, MemoryError)
did not catch, so the job raised: {", ".join(f"`{k}` ×{v}" for k, v in escaped.items()) or "none"}.
Replay any with `images.process(open(path, "rb").read())` from `var/bench/imagefuzz/`.

Scenario wall time {elapsed:.0f} s.
"""


def run(quick: bool = False) -> str:
    from . import report

    per_format, seed = (1000 if quick else 20000), 20261203
    t0 = time.monotonic()
    tallies = fuzz(per_format, seed, keep=FINDINGS)
    md = markdown(tallies, per_format, seed, time.monotonic() - t0)
    report.write_section("imagefuzz", md)
    return md


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    s = int(sys.argv[2]) if len(sys.argv) > 2 else 20261203
    t0 = time.monotonic()
    print(markdown(fuzz(n, s), n, s, time.monotonic() - t0))
