// The sync loop and its triggers; the only module that talks to the sync API.
// One cycle: metadata batches, then the changes feed and the photos by tus (three
// at a time) together, the feed again every 30 s while photos go, reference data.
// A network error or a 5xx ends the cycle and leaves every item queued.

import * as api from './api.js';
import { codeOf } from './codes.js';
import { deleteMany, kvGet, kvSet, putMany } from './db.js';
import * as journal from './journal.js';
import * as leases from './leases.js';
import * as outbox from './outbox.js';
import { announce, listen, live, PhotoWork } from './progress.js';
import * as tus from './tus.js';

export const SYNC_TAG = 'colis-sync';
const REFERENCE_EVERY_MS = 5 * 60 * 1000;
const MAX_ITEMS = 50;
const limits = { maxItems: MAX_ITEMS, maxBytes: 256 * 1024 };
// A batch that gets a 500 this many times is split in halves until the item the server
// fails on is alone; alone, it is refused on the tablet and the others go through. Only
// 500 counts: 502, 503 and 504 say the server is away, not that an item breaks it.
const SPLIT_AFTER = 2;

export class ServerError extends Error {
  constructor(status) { super(`server answered ${status}`); this.status = status; }
}

/** Listeners for 'status' (after each cycle) and 'refused' (an item the server fails on). */
export const events = new EventTarget();

// Photos uploaded at once: while one waits for its answer (a round trip, the server's write)
// the others keep the uplink busy. Each photo is its own upload, by one lane only. Three, not
// two: a TCP flow paces itself at its share of the link and takes a pausing neighbour's share
// only slowly, so with two the link idles half of each pause (bench/RESULTS.md §2).
export const PHOTOS_IN_FLIGHT = 3;
// Each request then has a third of the link: a 256 KB chunk beside two others takes ~16 s at
// 400 kbit/s; past 45 s the link is likely dead (tus.js: 30 s for a request alone).
const PHOTO_TIMEOUT_MS = 45000;
// While photos go, the changes feed is read again every `changesMs`: the server completes the
// items sent at the cycle's start (numéro, price) long before a backlog's photos are all up.
// 30 s: a 50-minute backlog on `typical` (2,000 photos, 405 MB: bench/RESULTS.md) adds 100
// GETs of under 1 kB on the uplink, under 0.03 % of its bytes; their answers, on the downlink,
// carry only the tasks changed since the last read, which the read after the photos would bring.
export const pace = { changesMs: 30 * 1000 };

export const status = { running: false, lastOkAt: null, lastError: null, failures: 0, nextAt: null,
  progress: 0 };  // progress: items and photos the server took, ever (a failed cycle may have some)

async function expectOk(response) {
  if (response.status >= 500 || response.status === 429) throw new ServerError(response.status);
  reached();
  return response;
}

/**
 * The server answered (a batch, the changes feed, a photo chunk): the last cycle's error
 * (« Dernier essai : Hors ligne ») is past, and the queue says so now, not at the end of a
 * cycle that may send photos for an hour. A cycle with work says it to the other contexts
 * (the page hears the service worker's); one without is short, its end says it.
 */
function reached() {
  forgetError();
  if (live.phase && !live.reached) announce({ reached: true });
}

function forgetError() {
  if (!status.lastError || status.lastError === 'auth') return;
  status.lastError = null;
  events.dispatchEvent(new Event('status'));
}
listen(() => { if (live.reached) forgetError(); });

async function sendBatches(report) {
  const queued = (await outbox.all()).filter((i) => i.state === 'queued').length;
  if (queued) announce({ phase: 'items', sent: 0, total: queued, photos: null });
  for (let round = 0; round < 1000; round++) {
    const { batch, device } = await outbox.claimBatch(limits);
    if (!batch.length) return;
    const response = await api.request('/api/v1/sync/', { method: 'POST', json: { items: batch, device } });
    if (response.status === 500 && await isolate(batch)) continue;
    await expectOk(response);
    if (response.status === 413) {
      if (batch.length === 1) {
        await outbox.applyResults([{ op_id: batch[0].op_id, result: 'invalid',
          errors: { __all__: ['too_large'] } }]);
      }
      limits.maxItems = Math.max(1, Math.floor(batch.length / 2));
      continue;
    }
    if (response.status !== 200) throw new ServerError(response.status);
    const body = await api.jsonBody(response);
    const changed = await outbox.applyResults(body?.items || []);
    const answers = body?.items || [];
    await forgetClosedLots(batch.filter((wire, i) => [].concat(answers[i]?.error_codes?.lot || [])
      .map(codeOf).includes('lot_closed')).map((wire) => wire.data.lot));
    report.sent += batch.length;
    status.progress += batch.length;
    announce({ sent: Math.min(live.total, live.sent + batch.length) });
    if (!changed.length) return;  // nothing moved: do not spin
  }
}

/**
 * After a 500 for `batch`: true when the batch should be sent again split (or without the
 * item now refused), false when it is not yet the second time (the cycle ends as for any 5xx).
 */
async function isolate(batch) {
  const noted = await outbox.noteServerError(batch.map((i) => i.op_id));
  if (noted.length < batch.length || noted.some((i) => i.server_errors < SPLIT_AFTER)) return false;
  if (batch.length > 1) {
    limits.maxItems = Math.max(1, Math.floor(batch.length / 2));
    return true;
  }
  await outbox.refuse(batch[0].op_id);
  limits.maxItems = MAX_ITEMS;
  events.dispatchEvent(new CustomEvent('refused', { detail: batch[0].op_id }));
  return true;
}

/** Send the cancels the agent asked for (a resolved conflict, a cancelled item), with reasons. */
async function sendCancels(report) {
  for (const item of outbox.cancelsToSend(await outbox.all())) {
    const response = await expectOk(await api.request(`/api/v1/tasks/${item.task.task_id}/cancel/`,
      { method: 'POST', json: item.cancel || {} }));
    if (response.status === 200) await outbox.applyTask(await api.jsonBody(response));
    report.changes += 1;  // a 409 (already ended) comes back through the changes feed
  }
}

/** The server said these lots are closed: the form stops offering them at once. */
async function forgetClosedLots(ids) {
  const known = ids.map(Number).filter(Number.isInteger);
  if (!known.length) return;
  await deleteMany('lots', known);
  const closed = new Set([...((await kvGet('closed_lots')) || []), ...known]);
  await kvSet('closed_lots', [...closed].slice(-500));
}

/**
 * A cycle's reads of the changes feed, one at a time (each moves the stored cursor):
 * `read()` now, `readIfDue()` when the last began `pace.changesMs` ago, `idle()` once none runs.
 */
function changesFeed(report) {
  let running = null;
  let startedAt = -Infinity;
  const feed = {
    failed: null,  // the error of a read nobody awaited; the cycle reads again at its end
    read() {
      startedAt = performance.now();
      running = pullChanges(report).finally(() => { running = null; });
      return running;
    },
    readIfDue() {
      if (running || performance.now() - startedAt < pace.changesMs) return;
      feed.read().catch((error) => { feed.failed = error; });
    },
    idle: () => running?.catch(() => {}),
  };
  return feed;
}

/** Pull task states for everything this device sent, from the stored cursor on. */
export async function pullChanges(report = { changes: 0 }) {
  for (let page = 0; page < 1000; page++) {
    const since = await kvGet('cursor');
    const query = since ? `?since=${encodeURIComponent(since)}` : '';
    const response = await expectOk(await api.request(`/api/v1/sync/changes${query}`));
    if (response.status === 400 && since) { await kvSet('cursor', null); continue; }
    if (response.status !== 200) throw new ServerError(response.status);
    const body = await api.jsonBody(response);
    if (body.items?.length) await outbox.applyTasks(body.items);
    await forgetClosedLots((body.items || []).filter((t) => t.error_code === 'lot_closed').map((t) => t.lot?.id));
    report.changes += body.items?.length || 0;
    await kvSet('cursor', body.cursor);
    if (!body.has_more) return;
  }
}

async function uploadOne(item, photo, token, work) {
  const blob = await outbox.photoBlob(photo.photo_id);
  work.begin(photo.photo_id);
  const progress = async ({ url, offset }) => {
    await outbox.notePhotoProgress(photo.photo_id, { upload_url: url, offset });
    work.acked(photo.photo_id, offset);
    reached();
  };
  await tus.upload({ endpoint: '/api/v1/uploads/', blob, url: photo.upload_url,
    metadata: { photo_id: photo.photo_id, op_id: item.op_id },
    headers: { Authorization: `Token ${token}` }, onProgress: progress,
    timeoutMs: PHOTO_TIMEOUT_MS });
  await outbox.notePhotoProgress(photo.photo_id, { uploaded: true, offset: blob.size,
    uploaded_at: new Date().toISOString(), last_error: null });
  work.finished(photo.photo_id, blob.size);
}

// Photos go after the metadata, PHOTOS_IN_FLIGHT at a time; a failed photo does not stop
// the others, a link that is down (or a refused token) stops the lanes from starting more.
async function uploadPhotos(report) {
  const auth = await api.currentAuth();
  const todo = await outbox.photosToUpload(await outbox.all());
  const waiting = todo.filter(({ photo }) => !photo.rejected);
  if (!waiting.length) return;
  const work = new PhotoWork(waiting.map(({ photo }) => photo));
  let failure = null;
  let stop = null;
  let next = 0;
  async function lane() {
    while (!stop && next < waiting.length) {
      const { item, photo } = waiting[next++];
      try {
        await uploadOne(item, photo, auth.token, work);
        report.photos += 1;
        status.progress += 1;
      } catch (error) {
        if (error.status === 401) { stop = error; return; }
        const fields = { last_error: error.message };
        if (error.status === 413 || error.status === 400) fields.rejected = `HTTP ${error.status}`;
        await outbox.notePhotoProgress(photo.photo_id, fields);
        if (!fields.rejected) failure = failure || error;
        if (error.status === 0) stop = stop || error;  // the link is down: the next would fail too
      }
    }
  }
  // Every lane ends before the cycle does (it holds the sync lock), whatever the others did.
  const lanes = await Promise.allSettled(
    Array.from({ length: Math.min(PHOTOS_IN_FLIGHT, waiting.length) }, lane));
  // This cycle's photo work is over: photos saved meanwhile go in the next, counted afresh.
  announce({ photos: null });
  if (stop?.status === 401) { await api.refuseToken(); throw new api.AuthRequired({ status: 401 }, null); }
  const broken = lanes.find((l) => l.status === 'rejected');
  if (broken) throw broken.reason;
  if (failure) throw new ServerError(`photo: ${failure.message}`);
}

async function fetchAll(url) {
  const rows = [];
  while (url) {
    const response = await expectOk(await api.request(url));
    if (response.status !== 200) throw new ServerError(response.status);
    const body = await api.jsonBody(response);
    if (Array.isArray(body)) return body;
    rows.push(...body.results);
    url = body.next ? new URL(body.next).pathname + new URL(body.next).search : null;
  }
  return rows;
}

/** Refresh clients (incrementally), open lots and tariffs into the local cache. */
export async function refreshReference({ force = false } = {}) {
  const last = await kvGet('reference_at');
  if (!force && last && Date.now() - Date.parse(last) < REFERENCE_EVERY_MS) return false;
  const startedAt = new Date().toISOString();
  const since = await kvGet('clients_since');
  const query = since ? `&updated_since=${encodeURIComponent(since)}` : '';
  const clients = await fetchAll(`/api/v1/clients/?limit=500${query}`);
  const lots = await fetchAll('/api/v1/lots/?statut=ouvert&limit=500');
  const tariffs = await fetchAll('/api/v1/tariffs/');
  await putMany('clients', clients);
  await putMany('lots', lots, { clear: true });
  await putMany('tariffs', tariffs, { clear: true });
  const newest = clients.map((c) => c.updated_at).sort().pop();
  if (newest) await kvSet('clients_since', newest);
  await kvSet('reference_at', startedAt);
  return true;
}

async function cycle() {
  const auth = await api.currentAuth();
  if (!auth?.token) return { ok: false, reason: 'auth' };
  // Known offline: send nothing, so no item is marked as possibly received.
  if (globalThis.navigator?.onLine === false) throw new api.NetworkError('offline');
  const report = { sent: 0, changes: 0, photos: 0 };
  await sendBatches(report);
  await sendCancels(report);
  const now = new Date().toISOString();
  // The changes feed (small answers, on the downlink) while the photos take the uplink:
  // the first photo starts one round trip sooner, and the feed is read again as they go
  // (pace). All of it ends before the cycle goes on.
  const feed = changesFeed(report);
  const ticking = setInterval(feed.readIfDue, pace.changesMs);
  const [changes, photos] = await Promise.allSettled([
    feed.read().then(() => kvSet('last_sync_ok', now)).then(() => live.phase && announce({ syncedAt: now })),
    uploadPhotos(report).finally(() => clearInterval(ticking))]);
  await feed.idle();
  for (const outcome of [photos, changes]) if (outcome.status === 'rejected') throw outcome.reason;
  if (report.photos || feed.failed) await feed.read();
  await outbox.purge();
  await refreshReference().catch((error) => journal.note('reference', error));
  await reportOutbox();
  // Numéros for the labels of the coming saves, offline too (leases.js).
  await leases.refill().catch((error) => journal.note('leases', error));
  return { ok: true, at: now, ...report };
}

/**
 * The heartbeat: after every cycle, nothing left included, tell the server what this
 * tablet still holds (items not accepted, photos not uploaded, the oldest of them).
 */
export async function reportOutbox() {
  const items = await outbox.all();
  const unsent = outbox.unsent(items);
  const photos = (await outbox.photosToUpload(items)).length
    + unsent.filter((i) => i.photo_id).length;
  const oldest = [...unsent, ...items.filter((i) => i.photo_id && outbox.IN_FLIGHT.includes(i.state))]
    .map((i) => i.created_at).sort()[0] || null;
  const response = await api.request('/api/v1/devices/report/', { method: 'POST',
    json: { outbox_pending: unsent.length, photos_pending: photos, oldest_pending_at: oldest } });
  if (response.status >= 400) journal.note('report', new ServerError(response.status));
}

/** Run `fn` under the sync lock, shared by the page and the service worker. */
function locked(fn) {
  if (globalThis.navigator?.locks) return navigator.locks.request(SYNC_TAG, fn);
  return fn();
}

/** One sync cycle, serialised across the page and the service worker. */
export function syncOnce() {
  return locked(async () => {
    try { return await cycle(); } finally {
      if (live.phase || live.reached) announce({ phase: null, photos: null, reached: false });
    }
  });
}

/** Retry a failed task on the server, with corrected fields; returns { task } or { errors }. */
export function retryTask(taskId, data = null) {
  return locked(() => retry(taskId, data));
}

async function retry(taskId, data) {
  const response = await expectOk(await api.request(`/api/v1/tasks/${taskId}/retry/`,
    { method: 'POST', json: data ? { data } : {} }));
  const body = await api.jsonBody(response);
  if (response.status === 200) { await outbox.applyTask(body); return { task: body }; }
  if (response.status === 409) { await pullChanges(); return { conflict: true }; }
  return { errors: body?.errors || body || {} };
}

function hasWork(items) {
  return items.some((i) => ['queued', 'cancelling'].includes(i.state) || outbox.IN_FLIGHT.includes(i.state));
}

/**
 * Run cycles on start, on `online`, on demand and on a timer: `baseMs` while
 * work is in flight, `idleMs` otherwise, exponential backoff with jitter on failure;
 * `changesMs`: the changes feed's pace during photos (the page's cycles).
 */
export function startLoop({ baseMs = 5000, idleMs = 60000, maxMs = 300000, changesMs = pace.changesMs } = {}) {
  pace.changesMs = changesMs;
  let timer = null;
  let running = null;
  const backoff = () => Math.min(maxMs, baseMs * 2 ** (status.failures - 1)) * (0.5 + Math.random() / 2);
  let again = false;
  async function tick() {
    clearTimeout(timer);
    if (running) { again = true; return running; }
    status.running = true;
    events.dispatchEvent(new Event('status'));
    running = (async () => {
      const progressBefore = status.progress;
      try {
        const result = await syncOnce();
        if (result.ok) { status.failures = 0; status.lastOkAt = result.at; status.lastError = null; }
        else status.lastError = result.reason;
      } catch (error) {
        // Known offline is no failure (the `online` event restarts the loop), and a cycle
        // that moved items before it failed starts the backoff again from its shortest step:
        // else a day of offline saves or one outage would leave the longest backoff behind.
        const offline = error instanceof api.NetworkError && error.message === 'offline';
        if (status.progress > progressBefore) status.failures = 1;
        else if (!offline) status.failures += 1;
        status.lastError = error instanceof api.AuthRequired ? 'auth' : String(error.message || error);
        if (!offline && status.lastError !== 'auth') journal.note('sync', error);
      }
      if (status.lastError === 'auth') {
        // No token: wait for a new login (it calls now()) rather than poll.
        status.running = false; running = null; again = false;
        api.events.dispatchEvent(new Event('auth-required'));
        events.dispatchEvent(new Event('status'));
        return;
      }
      const work = hasWork(await outbox.all());
      let delay = status.failures ? backoff() : (work ? baseMs : idleMs);
      if (again && !status.failures) delay = 0;
      again = false;
      status.nextAt = Date.now() + delay;
      status.running = false;
      running = null;
      timer = setTimeout(tick, delay);
      events.dispatchEvent(new Event('status'));
    })();
    return running;
  }
  globalThis.addEventListener?.('online', () => tick());
  tick();
  return { now: tick };
}

/** Ask the service worker for a Background Sync when the browser has it (never awaited on save). */
export async function requestBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker?.ready;
    if (registration && 'sync' in registration) await registration.sync.register(SYNC_TAG);
  } catch (error) {
    await journal.note('background-sync', error);  // the loop's timer still syncs
  }
}
