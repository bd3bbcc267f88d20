// Numéros de suivi leased to this tablet (server/cargo/leases.py). A save takes the next
// one in the same IndexedDB transaction as its item: no numéro used twice, none lost if
// the save fails, and the label can be printed at once, offline. At the end of each sync
// cycle the tablet says how many it has left and stores the leases the server answers.

import * as api from './api.js';
import * as db from './db.js';

const PREFIX = 'CS';

/** The Luhn check digit of a string of digits (server/cargo/numbering.py luhn_digit). */
export function luhnDigit(digits) {
  let total = 0;
  [...digits].reverse().forEach((ch, i) => {
    let d = Number(ch);
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    total += d;
  });
  return String((10 - (total % 10)) % 10);
}

/** The tracking number `seq` of the year `year` ("26"): `CS26-000042-7`. */
export function formatNumero(year, seq) {
  const padded = String(seq).padStart(6, '0');
  return `${PREFIX}${year}-${padded}-${luhnDigit(`${year}${padded}`)}`;
}

/**
 * Save `item` (and its photo row) numbered with the next leased numéro, all in one
 * transaction; with no numéro left it is saved unnumbered and the server numbers it.
 * Resolves to the item (its data.numero_suivi set when numbered).
 */
export function saveNumbered(item, photo = null) {
  const names = photo ? ['items', 'photos', 'leases'] : ['items', 'leases'];
  return db.transaction(names, 'readwrite', async (s) => {
    const open = (await db.req(s.leases.getAll())).filter((l) => l.next <= l.last)
      .sort((a, b) => a.id - b.id);  // the oldest first: last year's before this year's
    const numbered = { ...item };
    if (open.length) {
      const lease = open[0];
      numbered.data = { ...item.data, numero_suivi: formatNumero(lease.year, lease.next) };
      s.leases.put({ ...lease, next: lease.next + 1 });
    }
    s.items.put(numbered);
    if (photo) s.photos.put(photo);
    return numbered;
  });
}

/** How many leased numéros this tablet has left. */
export async function left() {
  const rows = await db.getAll('leases');
  return rows.reduce((n, l) => n + Math.max(0, l.last - l.next + 1), 0);
}

/** The numbers the settings show: { left, block } (block: the server's last block size). */
export async function summary() {
  const [n, block] = await Promise.all([left(), db.kvGet('lease_block')]);
  return { left: n, block: block || null };
}

/**
 * Tell the server how many numéros are left and keep the leases it answers: a new one is
 * added (from its first number), one it no longer lists (voided, or all used) is dropped,
 * the others keep how far this tablet got. A lease is added once only: ids only grow.
 */
export async function refill() {
  const response = await api.request('/api/v1/leases/', { method: 'POST', json: { left: await left() } });
  if (response.status !== 200) return null;  // a session without a device: the server numbers
  const body = await api.jsonBody(response);
  if (!Array.isArray(body?.leases)) return null;
  await db.transaction(['leases', 'kv'], 'readwrite', async (s) => {
    const local = await db.req(s.leases.getAll());
    const seen = (await db.req(s.kv.get('lease_max_id'))) || 0;
    const listed = new Set(body.leases.map((l) => l.id));
    for (const lease of local) if (!listed.has(lease.id)) s.leases.delete(lease.id);
    const have = new Set(local.map((l) => l.id));
    for (const l of body.leases) {
      if (l.id > seen && !have.has(l.id)) {
        s.leases.put({ id: l.id, year: l.year, first: l.first, last: l.last, next: l.first,
          first_numero: l.first_numero, last_numero: l.last_numero });
      }
    }
    s.kv.put(Math.max(seen, ...listed), 'lease_max_id');
    s.kv.put(body.block, 'lease_block');
  });
  return body;
}

/** Drop every lease (another login: the old device's leases are void). */
export function forget() {
  return db.transaction(['leases'], 'readwrite', (s) => db.req(s.leases.clear()));
}
