"""A JPEG's metadata removed without touching its image: a walk over its markers, no decoding.

`strip` keeps what a decoder needs (frame, tables, scans, restart interval, JFIF's header
and Adobe's colour-transform flag) and drops every other segment: EXIF and XMP (APP1),
ICC profiles and MPF (APP2), the other APPn, comments (COM), a JFIF thumbnail, and anything
after the end of the image. The entropy-coded data is copied byte for byte, so the image
decodes to the same pixels.

Only the plain kinds are kept this way: 8-bit Huffman JPEG (baseline, extended or
progressive), one frame, markers well formed. Anything else gives None, and the caller
decodes and re-encodes the photo instead. The walk never trusts a length it has not checked
against the data; it does not check the image data itself (the caller decodes it once).
"""

import struct

SOI, EOI, SOS, COM = 0xD8, 0xD9, 0xDA, 0xFE
APP0, APP14 = 0xE0, 0xEE
FRAMES = {0xC0, 0xC1, 0xC2}  # Huffman, 8 bits: baseline, extended, progressive
TABLES = {0xC4, 0xDB, 0xDD}  # DHT, DQT, DRI
RESTARTS = range(0xD0, 0xD8)
# Lossless, hierarchical and arithmetic frames, JPG extensions, DAC, DNL: not kept as they are.
REFUSED = {*range(0xC3, 0xD0), 0xDC} - {0xC4}
JFIF = b"JFIF\0"


def strip(data: bytes) -> bytes | None:
    """`data` without its metadata, or None when it is not a plain JPEG this can walk."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out, pos, frames = [b"\xff\xd8"], 2, 0
    try:
        while True:
            marker, pos = _marker(data, pos)
            if marker == EOI:
                out.append(b"\xff\xd9")
                return b"".join(out) if frames == 1 else None
            if marker in RESTARTS or marker == SOI:
                return None  # outside a scan: malformed
            length = struct.unpack_from(">H", data, pos)[0]
            end = pos + length
            if length < 2 or end > len(data):
                return None
            segment = data[pos - 2:end]
            if marker in FRAMES:
                if frames or data[pos + 2] != 8:
                    return None  # a second frame, or 12-bit samples
                frames += 1
                out.append(segment)
            elif marker in REFUSED:
                return None
            elif marker in TABLES:
                out.append(segment)
            elif marker == APP0:
                if data[pos + 2:pos + 7] == JFIF and length >= 16:
                    out.append(_jfif(data[pos + 2:end]))
            elif marker == APP14:
                if data[pos + 2:pos + 7] == b"Adobe":  # its transform flag changes the colours
                    out.append(segment)
            elif marker == SOS:
                if not frames:
                    return None
                scan_end = _scan_end(data, end)
                out.append(data[pos - 2:scan_end])
                end = scan_end
            elif not (0xE0 <= marker <= 0xEF or marker == COM):
                return None  # reserved or unknown
            pos = end
    except (IndexError, ValueError, struct.error):
        return None  # ran off the end of the data


def _marker(data: bytes, pos: int) -> tuple[int, int]:
    """The marker at `pos` (fill bytes 0xFF allowed before it); the position after it."""
    if data[pos] != 0xFF:
        raise IndexError("no marker")
    while data[pos] == 0xFF:
        pos += 1
    return data[pos], pos + 1


def _scan_end(data: bytes, pos: int) -> int:
    """Where the entropy-coded data from `pos` ends: the first marker that is neither a
    stuffed 0xFF00 nor a restart marker."""
    while True:
        pos = data.index(b"\xff", pos)
        following = data[pos + 1]
        if following == 0 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos += 1
            continue
        return pos


def _jfif(payload: bytes) -> bytes:
    """JFIF's header as a decoder reads it (version, units, density), its thumbnail dropped."""
    body = payload[:12] + b"\0\0"  # identifier, version, units, densities; no thumbnail
    return b"\xff\xe0" + struct.pack(">H", len(body) + 2) + body
