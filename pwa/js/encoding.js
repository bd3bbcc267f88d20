// Which format the tablet stores a photo in: WebP where the browser really encodes it,
// JPEG elsewhere (an unsupported type comes back as PNG). Pure: no canvas here, the
// caller probes. Qualities measured by bench/photobytes.py (bench/RESULTS.md §1b): for
// each type, the one that keeps the median photo within 150 kB with the best worst SSIM.

export const WEBP = { type: 'image/webp', quality: 0.75 };
export const JPEG = { type: 'image/jpeg', quality: 0.5 };

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
