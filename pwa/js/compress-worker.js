// Web Worker: decode a photo (EXIF orientation applied by the browser), draw
// it scaled so its longest side is at most `maxSide`, encode it as encoding.js
// says, or in the `type`/`quality` the caller asks for (the bench). Bitmaps are
// closed as soon as they are drawn. A photo whose header says more pixels than the
// server takes is refused before decoding: a 400 MP picture would take seconds and
// could exhaust a tablet's memory.

import { ENCODING } from './encoding.js';
import { imageSize, MAX_PIXELS } from './imagesize.js';

// The browser's best downscale: the default ('low') aliases a camera's noise and fine
// texture, which costs SSIM and bytes (bench/photobytes.py).
const SMOOTHING = 'high';

self.onmessage = async (event) => {
  const { id, blob, maxSide, type, quality, smoothing = SMOOTHING } = event.data;
  const started = performance.now();
  try {
    const header = await imageSize(blob);
    if (header && header.width * header.height > MAX_PIXELS) {
      self.postMessage({ id, error: `${header.width}×${header.height} px`, code: 'photo_too_big' });
      return;
    }
    const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    context.imageSmoothingQuality = smoothing;
    context.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
    const use = type ? { type, quality } : ENCODING;
    const drawn = performance.now();
    const out = await canvas.convertToBlob(use);
    const done = performance.now();
    self.postMessage({ id, blob: out, width, height, ms: done - started, encodeMs: done - drawn });
  } catch (error) {
    self.postMessage({ id, error: String(error) });
  }
};
