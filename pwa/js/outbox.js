// The outbox: the public queue API over db.js. An item is a plain object
// { op_id, op, data, state, task, errors, ... }; it leaves the device only
// when the server says its task completed or was cancelled (and 24 h later).

import { codeOf } from './codes.js';
import * as db from './db.js';
import * as leases from './leases.js';

export const KEEP_DONE_MS = 24 * 3600 * 1000;
export const IN_FLIGHT = ['pending', 'processing', 'image_uploading', 'price_calculating',
  'notification_sending', 'failed_retry'];
export const TERMINAL = ['completed', 'cancelled'];

/**
 * Every state an item can be in, and what the agent may do there: the one table the views
 * read. Local states are moved only by this module; the others are the server task's
 * status, taken from its answers. `cancelling` waits for the server to end the task.
 */
export const STATES = {
  queued: { bucket: 'device', actions: ['print', 'edit', 'discard'] },
  invalid: { bucket: 'failed', actions: ['correct', 'discard'] },
  conflict: { bucket: 'failed', actions: ['resolve', 'discard'] },
  cancelling: { bucket: 'cancelled', actions: [] },
  pending: { bucket: 'sent', actions: ['edit', 'cancel'] },
  processing: { bucket: 'processing', actions: ['edit'] },
  image_uploading: { bucket: 'processing', actions: ['edit'] },
  price_calculating: { bucket: 'processing', actions: ['edit'] },
  notification_sending: { bucket: 'processing', actions: ['edit'] },
  failed_retry: { bucket: 'processing', actions: ['cancel'] },
  failed: { bucket: 'failed', actions: ['retry', 'correct', 'cancel'] },
  failed_final: { bucket: 'failed', actions: ['retry', 'correct', 'cancel'] },
  completed: { bucket: 'completed', actions: ['print', 'edit', 'photo'] },
  cancelled: { bucket: 'cancelled', actions: [] },
};

/**
 * The moves this module makes on its own (the server's answers move items to its task's
 * status): anything else is a bug, refused by `move`.
 */
const SERVER = ['pending', ...IN_FLIGHT, 'failed', 'failed_final', ...TERMINAL];
export const MOVES = {
  queued: ['invalid', 'conflict', 'cancelled', ...SERVER],  // an answer, a refusal, a discard
  invalid: ['queued', 'cancelled'],  // sent again as it is (a refused item), discarded
  conflict: ['pending', 'cancelled', ...SERVER],  // the server's own task adopted, discarded
  cancelling: ['cancelled', ...SERVER],  // the server ended the task (or had finished it)
  ...Object.fromEntries(SERVER.filter((s) => !TERMINAL.includes(s)).map((s) => [s, ['cancelling', ...SERVER]])),
  completed: [],
  cancelled: [],
};

/** `item` moved to `state` with `fields`, or an Error for a move the table does not allow. */
function move(item, state, fields = {}) {
  if (item.state !== state && !(MOVES[item.state] || []).includes(state)) {
    throw new Error(`outbox: ${item.state} → ${state} is not a move`);
  }
  return { ...item, ...fields, state, updated_at: new Date().toISOString() };
}

/** What the agent may do with `item` now (a subset of its state's actions). */
export function actionsFor(item) {
  const code = item.task?.error_code;
  let actions = STATES[item.state]?.actions || [];
  if (item.state === 'invalid' && item.refused) actions = ['correct', 'resend', 'discard'];
  if (item.state === 'failed_final' && code === 'version_conflict') actions = ['resolve', 'cancel'];
  const lotClosed = code === 'lot_closed' || [].concat(item.errors?.lot || []).map(codeOf).includes('lot_closed');
  if (lotClosed && item.op === 'create') actions = ['move', ...actions.filter((a) => a !== 'retry')];
  return actions.filter((a) => (a !== 'edit' && a !== 'photo') || (item.op === 'create' && !item.dismissed))
    .filter((a) => a !== 'print' || (item.op === 'create' && (item.data?.numero_suivi || item.task?.colis?.numero_suivi)))
    .filter((a) => a !== 'cancel' || item.task)
    .filter((a) => a !== 'correct' || item.op !== 'open_lot');
}

/** A fresh UUID (the idempotency key of every write). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function newItem(op, data, extra = {}) {
  const now = new Date().toISOString();
  return { op_id: uuid(), op, data, state: 'queued', task: null, errors: {}, attempts: 0,
    created_at: now, updated_at: now, done_at: null, photo_id: null, ...extra };
}

/** Queue a new colis (and its compressed photo), numbered, in one transaction; returns the item. */
export async function addColis(data, { photo = null, labels = {} } = {}) {
  const item = newItem('create', data, { labels });
  const photoRow = photo ? attachPhoto(item, photo) : null;
  // Numbered in the same transaction, from this tablet's leased numéros (leases.js).
  return leases.saveNumbered(item, photoRow);
}

/** Remember how long the save took on the tablet (sent with the item, for the metrics). */
export function noteSaveTime(opId, ms) {
  return db.updateItems([opId], (item) => ({ ...item, save_ms: ms }));
}

/** Queue the opening of a lot; colis refer to it by `lot_op_id` until it has an id. */
export async function addOpenLot(typeLot) {
  const item = newItem('open_lot', { type_lot: typeLot });
  await db.saveItem(item);
  return item;
}

/** Queue an edit of a colis. `dependsOn` is the op whose result gives colis id and version. */
export async function addUpdate(changes, { colisId = null, baseVersion = null, dependsOn = null,
  labels = {}, previous = null, photo = null } = {}) {
  const data = { ...changes };
  if (colisId) { data.colis = colisId; data.base_version = baseVersion; }
  const item = newItem('update', data, { depends_on: dependsOn, labels, previous });
  // A photo added or replaced later travels like a new colis' photo; the server keeps the
  // old one until this one is ready.
  const photoRow = photo ? attachPhoto(item, photo) : null;
  await db.saveItem(item, photoRow);
  return item;
}

/** Give `item` a new photo: its photo_id in the item and the data; returns the photo row. */
function attachPhoto(item, photo) {
  const photoId = uuid();
  item.photo_id = photoId;
  item.data = { ...item.data, photo_id: photoId };
  item.photo_bytes = photo.size;
  return { photo_id: photoId, op_id: item.op_id, blob: photo, type: photo.type, size: photo.size,
    upload_url: null, offset: 0, uploaded: false };
}

/** Every item, oldest first. */
export async function all() {
  const items = await db.getAll('items');
  return items.sort((a, b) => a.created_at.localeCompare(b.created_at));
}

/** The display bucket of an item. */
export function bucket(item) {
  return STATES[item.state]?.bucket || 'device';
}

/** Counts of items per bucket. */
export function counts(items) {
  const out = { device: 0, sent: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const item of items) out[bucket(item)] += 1;
  return out;
}

/**
 * Counts of items per bucket without reading the items: IndexedDB counts the `state`
 * index's keys (exact after any write, nothing kept that could drift; see db.countStates).
 */
export async function countNow() {
  const byState = await db.countStates(Object.keys(STATES));
  const out = { device: byState.other, sent: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const [state, { bucket: b }] of Object.entries(STATES)) out[b] += byState[state];
  return out;
}

/** What changed in the outbox (db.changes): 'change' events of { items, photos, all }. */
export const changes = db.changes;

/** These items (missing ones left out) and these photos' upload states, without blobs. */
export const itemsByKey = db.itemsByKey;
export const photoStatesOf = db.photoStatesOf;

/** Items the server has not accepted yet (for the backlog report). */
export function unsent(items) {
  return items.filter((i) => ['queued', 'invalid', 'conflict'].includes(i.state));
}

function ready(item, byOpId) {
  if (item.state !== 'queued') return false;
  if (item.op === 'create' && item.data.lot_op_id) {
    const lot = byOpId[item.data.lot_op_id];
    if (lot && lot.state === 'queued') return 'with-lot';
  }
  if (item.op === 'update' && !item.data.colis) {
    const dep = byOpId[item.depends_on];
    return Boolean(dep?.task?.colis?.id && dep.state === 'completed');
  }
  return true;
}

/** The next batch: queued items, oldest first, bounded in count and JSON bytes. */
export function nextBatch(items, { maxItems = 50, maxBytes = 256 * 1024 } = {}) {
  const byOpId = Object.fromEntries(items.map((i) => [i.op_id, i]));
  const batch = [];
  const inBatch = new Set();
  let bytes = 0;
  for (const item of items) {
    const ok = ready(item, byOpId);
    if (!ok) continue;
    // A colis in a lot opened offline goes in the same or a later batch than its lot.
    if (ok === 'with-lot' && !inBatch.has(item.data.lot_op_id)) continue;
    const wire = { op_id: item.op_id, op: item.op, data: wireData(item, byOpId),
      saved_at: item.created_at };
    if (Number.isFinite(item.save_ms)) wire.save_ms = Math.round(item.save_ms * 10) / 10;
    const size = JSON.stringify(wire).length;
    if (batch.length && (batch.length >= maxItems || bytes + size > maxBytes)) break;
    batch.push(wire); inBatch.add(item.op_id); bytes += size;
  }
  return batch;
}

function wireData(item, byOpId) {
  if (item.op !== 'update' || item.data.colis) return item.data;
  const colis = byOpId[item.depends_on].task.colis;
  return { ...item.data, colis: colis.id, base_version: colis.version };
}

/** An answer's field errors as codes (error_codes; older servers sent sentences in errors). */
function errorsOf(answer) {
  const errors = answer?.error_codes || answer?.errors || {};
  return Object.keys(errors).length ? errors : {};
}

function fromTask(item, task, now) {
  if (item.task && item.task.updated_at && task.updated_at && task.updated_at < item.task.updated_at) {
    return null;  // an older state than the one we hold
  }
  // The server holds other data under this op_id: the agent chooses, the feed does not.
  if (item.state === 'conflict') return { ...item, task, updated_at: now };
  // A cancel the server has not heard yet: only the task's end moves the item on.
  if (item.state === 'cancelling' && !TERMINAL.includes(task.status)) return { ...item, task, updated_at: now };
  const state = task.status;
  const next = { ...item, task, state, updated_at: now,
    errors: errorsOf(task) };
  if (TERMINAL.includes(state)) next.done_at = next.done_at || now;
  if (task.lot) next.lot = task.lot;
  return next;
}

/** Apply the per-item answers of one batch; items without an answer stay as they are. */
export async function applyResults(results) {
  const now = new Date().toISOString();
  const byOpId = Object.fromEntries(results.map((r) => [r.op_id, r]));
  return db.updateItems(Object.keys(byOpId), (item) => {
    const r = byOpId[item.op_id];
    if (r.result === 'accepted' || r.result === 'duplicate') {
      const next = r.task ? fromTask(item, r.task, now) || { ...item } : { ...item, state: 'pending' };
      if (next.state === 'queued') next.state = 'pending';
      if (r.lot) {
        // A lot is opened at once and has no task: the server's answer is its completion.
        Object.assign(next, { lot: r.lot, state: 'completed', done_at: next.done_at || now });
      }
      return next;
    }
    if (r.result === 'invalid' || r.result === 'conflict') {
      return { ...item, state: r.result, errors: errorsOf(r), task: r.task || item.task,
        updated_at: now };
    }
    return null;
  });
}

/**
 * Apply task states from the changes feed to the items they belong to, and give every
 * item of a colis the newest version of it the server has shown (`current`): after an
 * edit syncs, the colis' first item shows the new weight and price too.
 */
export async function applyTasks(tasks) {
  const now = new Date().toISOString();
  const byOpId = Object.fromEntries(tasks.map((t) => [t.op_id, t]));
  return db.rewriteItems((items) => {
    const changed = new Map();
    for (const item of items) {
      const task = byOpId[item.op_id];
      const next = task ? fromTask(item, task, now) : null;
      if (next) changed.set(item.op_id, next);
    }
    const newest = {};
    for (const item of items.map((i) => changed.get(i.op_id) || i)) {
      const colis = item.task?.colis;
      if (colis?.id && (!newest[colis.id] || colis.version > newest[colis.id].version)) newest[colis.id] = colis;
    }
    for (const item of items.map((i) => changed.get(i.op_id) || i)) {
      const colis = newest[item.task?.colis?.id];
      // Only a newer version than the item's own: the own one is fresher at equal versions
      // (a photo lands without a new version).
      const current = colis && colis.version > item.task.colis.version ? colis : null;
      if ((current?.version ?? null) !== (item.current?.version ?? null)) {
        changed.set(item.op_id, { ...item, current });
      }
    }
    return { put: [...changed.values()], result: [...changed.values()] };
  });
}

/** The newest version of an item's colis the tablet knows (null before it exists). */
export function currentColis(item) {
  const own = item.task?.colis || null;
  return item.current && (!own || item.current.version > own.version) ? item.current : own;
}

/**
 * Take the next batch and count the attempt on its items in one transaction, so an edit
 * in place (`editQueued`) either lands before (and is sent) or sees the attempt (and
 * becomes an update): never sent stale and then lost. Resolves to { batch, device }.
 */
export function claimBatch(limits) {
  const now = new Date().toISOString();
  return db.rewriteItems((rows) => {
    const items = rows.sort((a, b) => a.created_at.localeCompare(b.created_at));
    const batch = nextBatch(items, limits);
    const taken = new Set(batch.map((w) => w.op_id));
    // What stays on the tablet once this batch is received (the heartbeat after the cycle
    // corrects it if the batch fails).
    const pending = unsent(items).filter((i) => !taken.has(i.op_id));
    const device = { outbox_pending: pending.length, oldest_pending_at: pending[0]?.created_at || null };
    const put = items.filter((i) => taken.has(i.op_id))
      .map((i) => ({ ...i, attempts: (i.attempts || 0) + 1, last_attempt_at: now }));
    return { put, result: { batch, device } };
  });
}

/**
 * End an item with a reason. Never sent (no server task): it ends here at once. Else it
 * waits in `cancelling` until the server has cancelled its task (sync sends the cancel),
 * so the tablet and the server agree. `supersededBy`: the op_id of the item that won.
 */
export function requestCancel(opId, { reason, supersededBy = null }) {
  const now = new Date().toISOString();
  return db.updateItems([opId], (item) => {
    if (TERMINAL.includes(item.state)) return null;
    const cancel = { reason, superseded_by: supersededBy };
    if (!item.task || item.state === 'conflict') {
      return move(item, 'cancelled', { cancel, dismissed: true, done_at: now });
    }
    return move(item, 'cancelling', { cancel, previous_state: item.state });
  });
}

/** Items whose cancel the server has still to hear. */
export function cancelsToSend(items) {
  return items.filter((i) => i.state === 'cancelling' && i.task?.task_id);
}

/** Count a 500 answer against each item of the batch that got it; resolves to the items. */
export function noteServerError(opIds) {
  return db.updateItems(opIds, (item) => (item.state === 'queued'
    ? { ...item, server_errors: (item.server_errors || 0) + 1 } : null));
}

/**
 * The server failed on this item alone, again and again: mark it failed on the tablet
 * (it can be corrected, sent again, exported or cancelled) so the others go through.
 */
export function refuse(opId) {
  return db.updateItems([opId], (item) => (item.state === 'queued'
    ? move(item, 'invalid', { refused: true, errors: { __all__: ['server_refused'] } })
    : null));
}

/** Send an item the server refused once more, as it is (the server may have been mended). */
export function resend(opId) {
  return db.updateItems([opId], (item) => (item.state === 'invalid' && item.refused
    ? move(item, 'queued', { refused: false, server_errors: 0, errors: {} })
    : null));
}

/** Apply a single task answer (retry/cancel). */
export function applyTask(task) {
  return applyTasks([task]);
}

/** Correct an item the server found invalid: new data, queued again under a new op_id. */
export async function correct(item, data) {
  const fresh = { ...item, op_id: uuid(), data: { ...item.data, ...data }, state: 'queued',
    errors: {}, task: null, attempts: 0, server_errors: 0, refused: false, replaces: item.op_id,
    updated_at: new Date().toISOString() };
  // A numéro the server refused (not leased, used): the server numbers the colis instead,
  // and its label is printed again from the queue once the number is known.
  if (item.errors?.numero_suivi) delete fresh.data.numero_suivi;
  await db.transaction(['items', 'photos'], 'readwrite', async (s) => {
    s.items.delete(item.op_id);
    s.items.put(fresh);
    if (item.photo_id) {
      const photo = await db.req(s.photos.get(item.photo_id));
      if (photo) s.photos.put({ ...photo, op_id: fresh.op_id });
    }
  });
  return fresh;
}

/**
 * Move a colis refused for its lot (closed meanwhile) into another lot: a new item under a
 * new op_id with the same data and photo; the old one is cancelled (`moved_to_other_lot`,
 * on the server too when it has a task). `lotFields` is { lot } or { lot_op_id }.
 */
export async function moveToLot(item, lotFields) {
  const data = { ...item.data };
  delete data.lot; delete data.lot_op_id;
  const now = new Date().toISOString();
  const fresh = { ...item, op_id: uuid(), data: { ...data, ...lotFields }, state: 'queued', errors: {},
    task: null, current: null, attempts: 0, server_errors: 0, refused: false, replaces: item.op_id,
    lot: null, created_at: now, updated_at: now };
  const cancel = { reason: 'moved_to_other_lot', superseded_by: fresh.op_id };
  const old = item.task && item.state !== 'conflict'
    ? { ...item, state: 'cancelling', cancel, updated_at: now }
    : { ...item, state: 'cancelled', cancel, dismissed: true, done_at: now, updated_at: now };
  await db.transaction(['items', 'photos'], 'readwrite', async (s) => {
    s.items.put(old);
    s.items.put(fresh);
    if (item.photo_id) {
      const photo = await db.req(s.photos.get(item.photo_id));
      if (photo) s.photos.put({ ...photo, op_id: fresh.op_id });
    }
  });
  return fresh;
}

/**
 * Edit an item never sent (not even tried: an answer may have been lost) in place.
 * Resolves to false when it may be on the server already: queue an update instead.
 */
export async function editQueued(opId, data, labels, photo = null) {
  return db.transaction(['items', 'photos'], 'readwrite', async (s) => {
    const item = await db.req(s.items.get(opId));
    if (!item || item.state !== 'queued' || item.attempts) return false;
    const next = { ...item, data: { ...item.data, ...data }, labels: labels || item.labels,
      updated_at: new Date().toISOString() };
    if (photo) {
      if (item.photo_id) s.photos.delete(item.photo_id);
      s.photos.put(attachPhoto(next, photo));
    }
    s.items.put(next);
    return true;
  });
}

/** Follow the server's task for an item whose op_id the server knew under other data. */
export function adoptServerTask(opId) {
  const now = new Date().toISOString();
  return db.updateItems([opId], (item) => (item.task
    ? fromTask({ ...item, state: 'pending', errors: {} }, item.task, now) : null));
}

/** The agent's choice in a conflict: drop the local version (the server's task ends too). */
export function dismiss(opId, supersededBy = null) {
  return requestCancel(opId, { reason: 'conflict_resolved', supersededBy });
}

/** Photos still to upload, for items the server has accepted. */
export async function photosToUpload(items) {
  const photos = await db.photoStates();
  return items
    .filter((i) => i.photo_id && !['queued', 'invalid', 'conflict', 'cancelling', 'cancelled'].includes(i.state))
    .map((i) => ({ item: i, photo: photos[i.photo_id] }))
    .filter(({ photo }) => photo && !photo.uploaded);
}

/** The blob of a photo. */
export async function photoBlob(photoId) {
  return (await db.getOne('photos', photoId))?.blob || null;
}

/** Remember how far a photo upload got (url and server offset). */
export function notePhotoProgress(photoId, fields) {
  return db.updatePhoto(photoId, (p) => ({ ...p, ...fields }));
}

/** Upload states of every photo, without blobs. */
export const photoStates = db.photoStates;

/** Drop items completed or cancelled more than 24 h ago whose photo has gone. */
export async function purge(now = Date.now()) {
  const [items, photos] = await Promise.all([all(), db.photoStates()]);
  const old = items.filter((i) => TERMINAL.includes(i.state) && i.done_at
    && now - Date.parse(i.done_at) > KEEP_DONE_MS
    && (!i.photo_id || i.state === 'cancelled' || photos[i.photo_id]?.uploaded));
  if (old.length) await db.deleteItems(old);
  return old.length;
}

function blobToBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',', 2)[1] || '');
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** The whole outbox, photos included, as the documented export object (docs/outbox-export.md). */
export async function exportAll({ device = null, user = null } = {}) {
  const items = await all();
  const photos = [];
  for (const item of items) {
    if (!item.photo_id) continue;
    const row = await db.getOne('photos', item.photo_id);
    if (!row) continue;
    photos.push({ photo_id: row.photo_id, op_id: item.op_id, type: row.type || 'image/jpeg',
      size: row.size, uploaded: Boolean(row.uploaded), data_base64: await blobToBase64(row.blob) });
  }
  return { format: 'colis-sync-outbox', version: 1, exported_at: new Date().toISOString(),
    device, user, items, photos };
}
