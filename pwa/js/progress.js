// What the running sync cycle has done so far, for the top bar and the queue: batches sent
// of the items queued at its start, and the photo in flight with its measured rate. The
// service worker's cycles announce it too, over a BroadcastChannel. sync.js announces;
// the page listens.

/** 'change' after each batch and photo chunk of this context's cycles. */
export const events = new EventTarget();

/** The running cycle's progress (phase null: no cycle runs). */
export const live = { phase: null, sent: 0, total: 0, photo: null };
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
export function measure(bytes, since, now) {
  if (bytes <= 0) return;
  rate.bytes += bytes;
  rate.ms += now - Math.max(since, rate.at);
  rate.at = now;
}

/** Bytes per second measured on this session's photo uploads (null before any). */
export function photoRate() {
  return rate.ms > 2000 ? (rate.bytes * 1000) / rate.ms : null;
}
