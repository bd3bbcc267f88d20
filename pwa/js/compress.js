// Photo compression off the main thread: one lazily started worker.

export const MAX_SIDE = 1600;

let worker = null;
let nextId = 1;
const waiting = new Map();

function getWorker() {
  if (!worker) {
    worker = new Worker(new URL('./compress-worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = ({ data }) => {
      const entry = waiting.get(data.id);
      if (!entry) return;
      waiting.delete(data.id);
      if (data.error) entry.reject(Object.assign(new Error(data.error), { code: data.code }));
      else entry.resolve(data);
    };
  }
  return worker;
}

/**
 * Compress a photo, longest side 1600 px, as encoding.js says (JPEG 0.5); the bench passes `type`, `quality` and `smoothing` (the downscale's
 * imageSmoothingQuality) to compare: { blob, width, height, ms, encodeMs, originalBytes }.
 * Rejects with an Error whose `code` is 'photo_too_big' for more than MAX_PIXELS (imagesize.js).
 */
export function compressPhoto(file, { maxSide = MAX_SIDE, type = null, quality = null, smoothing } = {}) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve: (r) => resolve({ ...r, originalBytes: file.size }), reject });
    getWorker().postMessage({ id, blob: file, maxSide, type, quality, smoothing });
  });
}
