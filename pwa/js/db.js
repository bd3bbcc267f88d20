// The only module that opens IndexedDB: the schema, its migrations, and small
// typed helpers per store. One lazily opened database per context (page or
// service worker). Transactions here never await anything but IndexedDB.

const DB_NAME = 'colis-sync';

// Each migration brings the schema from version i to i + 1. Append, never edit.
const MIGRATIONS = [
  (db) => {
    db.createObjectStore('kv');
    const items = db.createObjectStore('items', { keyPath: 'op_id' });
    items.createIndex('state', 'state');
    items.createIndex('created_at', 'created_at');
    db.createObjectStore('photos', { keyPath: 'photo_id' });
    db.createObjectStore('clients', { keyPath: 'id' });
    db.createObjectStore('lots', { keyPath: 'id' });
    db.createObjectStore('tariffs', { keyPath: 'id' });
  },
  (db) => {
    // Numéros de suivi leased to this tablet: { id, year, first, last, next } (leases.js).
    db.createObjectStore('leases', { keyPath: 'id' });
  },
];

let dbPromise = null;

/**
 * What changed in the outbox: after each committed write to `items` or `photos`, a 'change'
 * event whose detail is { items: [op_id…], photos: [photo_id…], all } (all: a store was
 * cleared). Heard in this context and, over a BroadcastChannel, in the others (the page
 * hears the service worker's writes): the views read back only those rows.
 */
export const changes = new EventTarget();
const WATCHED = ['items', 'photos'];
const changeChannel = globalThis.BroadcastChannel ? new BroadcastChannel('colis-sync-changes') : null;
changeChannel?.addEventListener('message', (event) => {
  changes.dispatchEvent(new CustomEvent('change', { detail: event.data }));
});
changeChannel?.unref?.();  // node (the tests import this module): an open channel keeps it alive

function announceChanges(noted) {
  const detail = { items: [...noted.items], photos: [...noted.photos], all: noted.all };
  changes.dispatchEvent(new CustomEvent('change', { detail }));
  changeChannel?.postMessage(detail);
}

/** `store` whose put/add/delete/clear note the keys they touch in `keys` (a Set). */
function noting(store, keys, noted) {
  const keyOf = (value, key) => (store.keyPath ? value?.[store.keyPath] : key);
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'put' || prop === 'add') {
        return (value, key) => { keys.add(keyOf(value, key)); return target[prop](value, key); };
      }
      if (prop === 'delete') return (key) => { keys.add(key); return target.delete(key); };
      if (prop === 'clear') return () => { noted.all = true; return target.clear(); };
      const value = target[prop];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Open (once) and migrate the database. */
export function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, MIGRATIONS.length);
      request.onupgradeneeded = (event) => {
        for (let v = event.oldVersion; v < MIGRATIONS.length; v++) MIGRATIONS[v](request.result);
      };
      request.onsuccess = () => {
        const db = request.result;
        db.onversionchange = () => { db.close(); dbPromise = null; };
        resolve(db);
      };
      request.onerror = () => { dbPromise = null; reject(request.error || new Error('IndexedDB open failed')); };
      request.onblocked = () => console.warn('colis-sync: database upgrade blocked by another tab');
    });
  }
  return dbPromise;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error || new Error('IndexedDB request failed'));
  });
}

/** Run `fn(stores)` in one transaction; resolves with its result once committed. */
export async function transaction(names, mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, mode);
    const noted = { items: new Set(), photos: new Set(), all: false };
    const stores = Object.fromEntries(names.map((name) => [name,
      mode === 'readwrite' && WATCHED.includes(name)
        ? noting(tx.objectStore(name), noted[name], noted) : tx.objectStore(name)]));
    let result;
    Promise.resolve()
      .then(() => fn(stores, tx))
      .then((value) => { result = value; }, (error) => { try { tx.abort(); } catch { /* done */ } reject(error); });
    tx.oncomplete = () => {
      if (noted.items.size || noted.photos.size || noted.all) announceChanges(noted);
      resolve(result);
    };
    tx.onerror = () => reject(tx.error || new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
}

/** Promise wrapper for one IDBRequest, for use inside `transaction`. */
export const req = done;

/** Read one key of the key/value store. */
export function kvGet(key) {
  return transaction(['kv'], 'readonly', (s) => done(s.kv.get(key)));
}

/** Write one key of the key/value store. */
export function kvSet(key, value) {
  return transaction(['kv'], 'readwrite', (s) => done(s.kv.put(value, key)));
}

/** Delete one key of the key/value store. */
export function kvDelete(key) {
  return transaction(['kv'], 'readwrite', (s) => done(s.kv.delete(key)));
}

/** Every row of a store. */
export function getAll(store) {
  return transaction([store], 'readonly', (s) => done(s[store].getAll()));
}

/** One row by key. */
export function getOne(store, key) {
  return transaction([store], 'readonly', (s) => done(s[store].get(key)));
}

/** Put many rows into a store (upsert), optionally clearing it first. */
export function putMany(store, rows, { clear = false } = {}) {
  return transaction([store], 'readwrite', async (s) => {
    if (clear) await done(s[store].clear());
    for (const row of rows) s[store].put(row);
  });
}

/** Delete rows of a store by key. */
export function deleteMany(store, keys) {
  return transaction([store], 'readwrite', (s) => { for (const key of keys) s[store].delete(key); });
}

/** Save an outbox item and, when given, its photo, atomically. */
export function saveItem(item, photo = null) {
  const names = photo ? ['items', 'photos'] : ['items'];
  return transaction(names, 'readwrite', (s) => {
    s.items.put(item);
    if (photo) s.photos.put(photo);
  });
}

/** Read-modify-write outbox items in one transaction: `fn(item)` returns the new item, null to keep. */
export function updateItems(opIds, fn) {
  return transaction(['items'], 'readwrite', async (s) => {
    const changed = [];
    for (const opId of opIds) {
      const item = await done(s.items.get(opId));
      if (!item) continue;
      const next = fn(item);
      if (next) { s.items.put(next); changed.push(next); }
    }
    return changed;
  });
}

/**
 * Read every outbox item and write some back in one transaction: `fn(items)` returns
 * { put: [changed items], result }; resolves to `result` once committed.
 */
export function rewriteItems(fn) {
  return transaction(['items'], 'readwrite', async (s) => {
    const { put, result } = fn(await done(s.items.getAll()));
    for (const item of put) s.items.put(item);
    return result;
  });
}

/** Delete outbox items and their photos in one transaction. */
export function deleteItems(items) {
  return transaction(['items', 'photos'], 'readwrite', (s) => {
    for (const item of items) {
      s.items.delete(item.op_id);
      if (item.photo_id) s.photos.delete(item.photo_id);
    }
  });
}

/** Update a photo row in place (upload progress); `fn(photo)` returns the new row. */
export function updatePhoto(photoId, fn) {
  return transaction(['photos'], 'readwrite', async (s) => {
    const photo = await done(s.photos.get(photoId));
    if (!photo) return null;
    const next = fn(photo);
    s.photos.put(next);
    return next;
  });
}

/** A photo row without its blob: its size and upload state. */
function photoState(row) {
  const { blob, ...rest } = row;
  return { ...rest, size: rest.size ?? blob?.size ?? 0 };
}

/** Photo rows without their blobs (sizes and upload states), keyed by photo_id. */
export function photoStates() {
  return transaction(['photos'], 'readonly', (s) => new Promise((resolve, reject) => {
    const out = {};
    const cursor = s.photos.openCursor();
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return resolve(out);
      out[c.key] = photoState(c.value);
      c.continue();
    };
    cursor.onerror = () => reject(cursor.error);
  }));
}

/** Outbox items by op_id (missing ones left out), in one transaction. */
export function itemsByKey(opIds) {
  return transaction(['items'], 'readonly', (s) => Promise.all(opIds.map((k) => done(s.items.get(k)))))
    .then((rows) => rows.filter(Boolean));
}

/** Photo rows without their blobs, for these photo_ids only (see photoStates). */
export function photoStatesOf(photoIds) {
  return transaction(['photos'], 'readonly', (s) => Promise.all(photoIds.map((k) => done(s.photos.get(k)))))
    .then((rows) => Object.fromEntries(photoIds.map((k, i) => [k, rows[i] ? photoState(rows[i]) : null])));
}

/**
 * How many outbox items are in each of `states`, from the `state` index: IndexedDB counts
 * the index's keys and reads no item. `other`: the items in none of them.
 */
export function countStates(states) {
  return transaction(['items'], 'readonly', async (s) => {
    const index = s.items.index('state');
    const [total, ...each] = await Promise.all([done(s.items.count()),
      ...states.map((state) => done(index.count(IDBKeyRange.only(state))))]);
    const out = Object.fromEntries(states.map((state, i) => [state, each[i]]));
    out.other = total - each.reduce((a, b) => a + b, 0);
    return out;
  });
}
