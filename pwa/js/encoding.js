// Which format the tablet stores a photo in: WebP where the browser really encodes it,
// JPEG elsewhere (an unsupported type comes back as PNG). Pure: no canvas here, the
// caller probes. Quality chosen by bench/photobytes.py (bench/RESULTS.md).

export const WEBP = { type: 'image/webp', quality: 0.75 };
export const JPEG = { type: 'image/jpeg', quality: 0.8 };

/** The first of `encodings` whose probe's blob type is its own type; JPEG as the last resort. */
export async function chooseEncoding(probe, encodings = [WEBP, JPEG]) {
  for (const encoding of encodings) {
    try {
      if ((await probe(encoding.type)) === encoding.type) return encoding;
    } catch {
      // A probe that throws says no more than a PNG would: try the next.
    }
  }
  return JPEG;
}
