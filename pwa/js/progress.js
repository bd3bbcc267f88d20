// What the running sync cycle has done so far, for the top bar and the queue: batches sent
// of the items queued at its start, and its photo work (photos and bytes gone of those it
// set out to send, the photo that last moved, the measured rate). The service worker's
// cycles announce it too, over a BroadcastChannel. sync.js announces; the page listens.

/** 'change' after each batch and photo chunk of this context's cycles. */
export const events = new EventTarget();

/**
 * The running cycle's progress (phase null: no cycle runs); `reached`: the server answered
 * it; `syncedAt`: the start of the last cycle that read the changes feed whole (the queue's
 * « Dernière synchronisation réussie » moves).
 */
export const live = { phase: null, sent: 0, total: 0, photos: null, reached: false, syncedAt: null };
const channel = globalThis.BroadcastChannel ? new BroadcastChannel('colis-sync-progress') : null;
// Photo bytes acknowledged this session, and the time they took: wall time while an upload
// was running, counted once when several run at once (`at`: the last time counted).
const rate = { bytes: 0, ms: 0, at: 0 };

/** Merge `fields` into `live` and tell this context and the others. */
export function announce(fields) {
  Object.assign(live, fields);
  events.dispatchEvent(new Event('change'));
  channel?.postMessage({ ...live });
}

/** Call `fn` on every change, this context's and another's (the page hears the service worker's cycles). */
export function listen(fn) {
  events.addEventListener('change', fn);
  channel?.addEventListener('message', (event) => { Object.assign(live, event.data); fn(); });
}

/** Count `bytes` acknowledged at `now`, sent since `since` (the previous answer's time). */
function measure(bytes, since, now) {
  if (bytes <= 0) return;
  rate.bytes += bytes;
  rate.ms += now - Math.max(since, rate.at);
  rate.at = now;
}

/** Bytes per second measured on this session's photo uploads (null before any). */
export function photoRate() {
  return rate.ms > 2000 ? (rate.bytes * 1000) / rate.ms : null;
}

/**
 * The photo work of one cycle, announced as `live.photos`: every photo it sets out to send,
 * counted by bytes, so that 100 % means the last has gone. (A photo's own percentage says
 * little: three go at once, and a small photo is one request, at 100 % when it answers.)
 */
export class PhotoWork {
  /** `photos`: the photo rows to send ({ photo_id, size, offset }). */
  constructor(photos) {
    this.total = photos.length;
    this.done = 0;
    this.size = photos.reduce((sum, p) => sum + (p.size || 0), 0);
    this.sent = photos.reduce((sum, p) => sum + (p.offset || 0), 0);
    this.last = new Map(photos.map((p) => [p.photo_id, { offset: p.offset || 0, at: 0 }]));
    announce({ phase: 'photos', photos: this.state(null) });
  }

  /** A lane starts on `photoId` (its rate counts from now). */
  begin(photoId) {
    this.last.get(photoId).at = performance.now();
  }

  /** The server holds `photoId` up to `offset`. */
  acked(photoId, offset) {
    const now = performance.now();
    const last = this.last.get(photoId);
    measure(offset - last.offset, last.at, now);
    this.sent += offset - last.offset;
    this.last.set(photoId, { offset, at: now });
    announce({ photos: this.state(photoId) });
  }

  /** `photoId` has gone whole (`size` bytes). */
  finished(photoId, size) {
    this.sent += size - this.last.get(photoId).offset;
    this.last.set(photoId, { offset: size, at: performance.now() });
    this.done += 1;
    announce({ photos: this.state(photoId) });
  }

  /** { done, total, pct, photo_id, rate }: `pct` of the bytes, 100 only once every photo went. */
  state(photoId) {
    const pct = this.done >= this.total ? 100 : Math.min(99, Math.floor((100 * this.sent) / (this.size || 1)));
    return { done: this.done, total: this.total, pct, photo_id: photoId, rate: photoRate() };
  }
}
