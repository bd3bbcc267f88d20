// A photo's width and height read from its file's header, before anything decodes it:
// JPEG (its SOF segment), PNG (IHDR), WebP (VP8, VP8L, VP8X), GIF and BMP. null when the
// header is not one of these or does not say within its first HEAD bytes (the browser then
// decodes the file as it would have).

export const MAX_PIXELS = 40_000_000; // the server refuses more (sync/images.py MAX_PIXELS)
const HEAD = 256 * 1024; // a camera's EXIF and thumbnail come before a JPEG's SOF

export async function imageSize(blob) {
  const bytes = new Uint8Array(await blob.slice(0, HEAD).arrayBuffer());
  const view = new DataView(bytes.buffer);
  const ascii = (at, n) => String.fromCharCode(...bytes.subarray(at, at + n));
  const size = (width, height) => ({ width, height });
  if (bytes.length >= 24 && ascii(1, 3) === 'PNG') return size(view.getUint32(16), view.getUint32(20));
  if (bytes.length >= 10 && ascii(0, 4) === 'GIF8') return size(view.getUint16(6, true), view.getUint16(8, true));
  if (bytes.length >= 26 && ascii(0, 2) === 'BM') {
    return size(Math.abs(view.getInt32(18, true)), Math.abs(view.getInt32(22, true)));
  }
  if (bytes.length >= 30 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return webp(bytes, view, ascii(12, 4));
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpeg(bytes, view);
  return null;
}

function webp(bytes, view, chunk) {
  const u24 = (at) => bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);
  if (chunk === 'VP8X') return { width: 1 + u24(24), height: 1 + u24(27) };
  if (chunk === 'VP8L') {
    const bits = view.getUint32(21, true);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
  }
  if (chunk === 'VP8 ') {
    return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  }
  return null;
}

function jpeg(bytes, view) {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker === 0xff) { at += 1; continue; } // fill bytes
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) { at += 2; continue; } // no length
    // SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
    }
    at += 2 + view.getUint16(at + 2);
  }
  return null;
}
