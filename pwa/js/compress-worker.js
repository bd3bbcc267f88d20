// Web Worker: decode a photo (EXIF orientation applied by the browser), draw
// it scaled so its longest side is at most `maxSide`, encode JPEG. Bitmaps are
// closed as soon as they are drawn.

self.onmessage = async (event) => {
  const { id, blob, maxSide, quality } = event.data;
  const started = performance.now();
  try {
    const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
    const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    context.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
    const out = await canvas.convertToBlob({ type: 'image/jpeg', quality });
    self.postMessage({ id, blob: out, width, height, ms: performance.now() - started });
  } catch (error) {
    self.postMessage({ id, error: String(error) });
  }
};
