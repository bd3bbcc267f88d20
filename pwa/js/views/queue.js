// The queue screen: each item with its state, counts per state, the last
// successful sync, and the actions on failed items.

import { fieldError, photoError, stepLabel, taskError } from '../codes.js';
import { bytes, dateTime, fmt, gettext, labelled, number } from '../i18n.js';
import { actionsFor, bucket, currentColis } from '../outbox.js';
import { h, mount } from './dom.js';
import { bucketLabel, fieldLabel, photoLabel, typeLabel } from './labels.js';

const ORDER = ['device', 'sent', 'processing', 'completed', 'failed', 'cancelled'];
// Listed in this order: what needs the agent first.
const LIST_ORDER = ['failed', 'device', 'sent', 'processing', 'completed', 'cancelled'];

function title(item, ctx) {
  const labels = item.labels || {};
  if (item.op === 'open_lot') {
    return fmt(gettext('Ouverture du lot %(lot)s'), { lot: item.lot?.numero_lot || typeLabel(item.data.type_lot) });
  }
  const colis = currentColis(item);
  if (item.op === 'update') {
    return fmt(gettext('Modification du colis %(numero)s'), { numero: colis?.numero_suivi || labels.numero_suivi || '' });
  }
  const clientId = colis?.client ?? item.data.client;
  return [ctx.clientName(clientId) || labels.client || `${gettext('Client')} #${clientId}`,
    `${number(colis?.poids ?? item.data.poids, 1)} kg`, item.lot?.numero_lot || labels.lot].filter(Boolean).join(' · ');
}

/** « Photo : envoi 45 % · 1,2 Mo restants · environ 20 s » (the time at the measured rate). */
function uploadText(photo, rate) {
  const left = Math.max(0, photo.size - photo.offset);
  const parts = [fmt(gettext('Photo : envoi %(pct)s %'), { pct: Math.floor(100 * photo.offset / photo.size) }),
    fmt(gettext('%(size)s restants'), { size: bytes(left) })];
  if (rate) parts.push(fmt(gettext('environ %(s)s s'), { s: Math.max(1, Math.round(left / rate)) }));
  return parts.join(' · ');
}

/** The server's word on this item's photo: { state, error } (a later photo: its own). */
function serverPhoto(item) {
  const colis = currentColis(item);
  if (!colis) return {};
  if (item.op === 'update' && colis.photo_next_id && colis.photo_next_id === item.photo_id) {
    return { state: colis.photo_next, error: colis.photo_next_error };
  }
  if (item.op === 'update' && colis.photo_id !== item.photo_id) return { state: 'awaiting' };
  return { state: colis.photo, error: colis.photo_error };
}

function photoLine(item, photo, ctx) {
  if (!item.photo_id) return null;
  const { state: server, error } = serverPhoto(item);
  let text;
  if (!photo) text = server ? photoLabel(server) : gettext('Photo');
  else if (photo.rejected) text = fmt(gettext('Photo refusée par le serveur (%(why)s)'), { why: photo.rejected });
  else if (photo.uploaded) text = server && server !== 'awaiting' ? photoLabel(server) : gettext('Photo envoyée');
  else if (photo.offset) text = uploadText(photo, ctx.live?.photos?.photo_id === photo.photo_id ? ctx.live.photos.rate : null);
  else text = fmt(gettext('Photo sur la tablette (%(size)s)'), { size: bytes(photo.size) });
  const why = server === 'failed' && error;
  return h('p', { class: 'photo-line muted' }, why ? labelled(text, photoError(why)) : text);
}

function errorList(errors) {
  const entries = Object.entries(errors || {}).filter(([k]) => k !== 'current');
  if (!entries.length) return null;
  return h('ul', { class: 'errors' }, entries.map(([field, messages]) => h('li', {},
    labelled(fieldLabel(field), [].concat(messages).map(fieldError).join(' ')))));
}

const ACTION_LABELS = {
  print: () => gettext("Imprimer l'étiquette"),
  edit: () => gettext('Modifier'),
  photo: () => gettext('Ajouter / remplacer la photo'),
  correct: (item) => (item.state === 'invalid' ? gettext('Corriger') : gettext('Corriger et réessayer')),
  resend: () => gettext('Renvoyer tel quel'),
  retry: () => gettext('Réessayer'),
  resolve: () => gettext('Résoudre le conflit'),
  move: () => gettext('Changer de lot'),
  discard: () => gettext('Annuler'),
  cancel: () => gettext('Annuler'),
};
const PRIMARY = ['correct', 'resolve', 'move', 'retry'];
const DANGER = ['discard', 'cancel'];

function actions(item, ctx) {
  // Which actions: outbox.actionsFor, the one table of states × actions.
  const out = actionsFor(item).map((action) => h('button', { type: 'button',
    class: `${PRIMARY.includes(action) ? 'primary' : DANGER.includes(action) ? 'danger' : 'secondary'} small`,
    dataset: { action }, onclick: () => ctx.onAction(action, item) }, ACTION_LABELS[action](item)));
  return out.length ? h('div', { class: 'actions' }, out) : null;
}

function row(item, ctx) {
  const b = bucket(item);
  const task = item.task;
  const detail = [];
  if (b === 'processing' && task) {
    detail.push(h('p', { class: 'step' }, stepLabel(task.current_step) || gettext('En traitement'),
      item.state === 'failed_retry' ? ` — ${gettext('nouvel essai prévu')}` : ''));
    detail.push(h('progress', { max: 100, value: task.progress_percentage || 0 }));
  }
  const colis = currentColis(item);
  if (colis?.numero_suivi) {
    detail.push(h('p', { class: 'numero' }, h('strong', { class: 'numero-suivi' }, colis.numero_suivi),
      colis.prix_calcule ? ` · ${number(colis.prix_calcule, 0)} ${colis.devise}` : ''));
  } else if (item.op === 'create' && item.data?.numero_suivi) {  // leased: on its label already
    detail.push(h('p', { class: 'numero' }, h('strong', { class: 'numero-leased' }, item.data.numero_suivi)));
  }
  if (item.state === 'cancelling') detail.push(h('p', { class: 'muted' }, gettext('Annulation envoyée au serveur à la prochaine synchronisation.')));
  if (b === 'failed') detail.push(h('p', { class: 'error' }, taskError(task) || gettext('Données à corriger')));
  return h('li', { class: `item state-${b}`, id: ctx.firstFailure === item.op_id ? 'first-failure' : null,
    tabindex: ctx.firstFailure === item.op_id ? '-1' : null,
    dataset: { op: item.op_id, kind: item.op, state: item.state, bucket: b } },
    h('div', { class: 'item-head' }, h('span', { class: `badge badge-${b}` }, bucketLabel(b)),
      h('span', { class: 'item-title' }, title(item, ctx))),
    detail, photoLine(item, ctx.photos[item.photo_id], ctx), errorList(item.errors),
    h('p', { class: 'muted small' }, fmt(gettext('Enregistré le %(when)s'), { when: dateTime(item.created_at) })),
    actions(item, ctx));
}

// The list is virtualised: only the rows near the viewport are in the DOM (a week offline is
// thousands of items), between two spacers as tall as the rows left out. Row heights are
// measured once drawn, estimated before. A row is rebuilt only when its item or photo object
// changed (the page replaces the objects a write touched, db.changes): a redraw during sync
// rebuilds the rows that moved, not the list.
const OVERSCAN_PX = 800;  // drawn above and below the viewport
const MIN_ROWS = 40;  // drawn at least (a short queue is drawn whole)
const ESTIMATE_PX = 120;
let view = null;

function rank(item) {
  return LIST_ORDER.indexOf(bucket(item));
}

/** The items in list order, sorted again only when the items array changed. */
function sortedItems(items) {
  if (view?.sortedFrom === items) return view.sorted;
  const sorted = [...items].sort((a, b) => rank(a) - rank(b) || b.created_at.localeCompare(a.created_at));
  return sorted;
}

function spacer() {
  // Its height is set through el.style (CSSOM): the CSP forbids style attributes.
  return h('li', { class: 'spacer', 'aria-hidden': 'true' });
}

function buildView(root, ctx) {
  const list = h('ul', { class: 'items', id: 'queue-items' });
  const v = { root, list, top: spacer(), bottom: spacer(), rows: new Map(), heights: new Map(),
    countCells: {}, sorted: [], sortedFrom: null, journal: null, frame: 0, clients: ctx.clients };
  v.countsEl = h('div', { class: 'counts', id: 'queue-counts' }, ORDER.map((k) => {
    v.countCells[k] = h('span', { class: `count badge-${k}`, dataset: { bucket: k } });
    return v.countCells[k];
  }));
  v.lastSync = h('p', { id: 'last-sync' });
  v.errorSlot = h('div', {});
  v.empty = h('p', { class: 'muted' }, gettext('Aucun colis en attente.'));
  v.listSlot = h('div', {});
  v.journalSlot = h('div', {});
  v.section = h('section', { class: 'card queue' },
    h('h1', {}, gettext("File d'attente")), v.countsEl, v.lastSync, v.errorSlot,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', id: 'export', onclick: () => v.ctx.onExport() },
        gettext("Exporter la file d'attente (fichier)"))),
    v.listSlot, v.journalSlot);
  mount(root, v.section);
  list.append(v.top, v.bottom);
  const onScroll = () => {
    if (!v.section.isConnected) { removeEventListener('scroll', onScroll); removeEventListener('resize', onScroll); return; }
    if (!v.frame) v.frame = requestAnimationFrame(() => { v.frame = 0; drawWindow(v); });
  };
  addEventListener('scroll', onScroll, { passive: true });
  addEventListener('resize', onScroll, { passive: true });
  return v;
}

/** The row of `item`, reused while its item, photo and live progress are the same objects. */
function rowFor(v, item, rowCtx) {
  const photo = rowCtx.photos[item.photo_id];
  const live = rowCtx.live?.photos?.photo_id && rowCtx.live.photos.photo_id === item.photo_id
    ? rowCtx.live.photos.rate : null;
  const first = rowCtx.firstFailure === item.op_id;
  const cached = v.rows.get(item.op_id);
  if (cached && cached.item === item && cached.photo === photo && cached.live === live && cached.first === first) {
    return cached.li;
  }
  const li = row(item, rowCtx);
  v.rows.set(item.op_id, { item, photo, live, first, li });
  return li;
}

/** Draw the rows near the viewport; the spacers stand for the others. */
function drawWindow(v) {
  const { sorted, list, heights } = v;
  if (!list.isConnected) return;
  const height = (item) => heights.get(item.op_id) ?? v.estimate ?? ESTIMATE_PX;
  const listTop = list.getBoundingClientRect().top;  // relative to the viewport
  const from = -listTop - OVERSCAN_PX;
  const to = -listTop + innerHeight + OVERSCAN_PX;
  let first = 0;
  let offset = 0;
  while (first < sorted.length && offset + height(sorted[first]) < from) offset += height(sorted[first++]);
  let last = first;
  while (last < sorted.length && (offset < to || last - first < MIN_ROWS)) offset += height(sorted[last++]);
  while (first > 0 && last - first < MIN_ROWS) first -= 1;  // near the end: MIN_ROWS anyway, upwards
  const shown = sorted.slice(first, last);
  const rowCtx = v.rowCtx;
  const nodes = shown.map((item) => rowFor(v, item, rowCtx));
  const before = sorted.slice(0, first).reduce((sum, item) => sum + height(item), 0);
  const after = sorted.slice(last).reduce((sum, item) => sum + height(item), 0);
  const wanted = [v.top, ...nodes, v.bottom];
  const current = list.children;
  const same = current.length === wanted.length && wanted.every((node, i) => current[i] === node);
  if (!same) {
    // Rows rebuilt in place keep the others (and a focused button in them) where they are.
    const inPlace = current.length === wanted.length
      && wanted.every((node, i) => current[i] === node || !node.isConnected);
    if (inPlace) wanted.forEach((node, i) => { if (current[i] !== node) current[i].replaceWith(node); });
    else list.replaceChildren(...wanted);
  }
  // The spacers at the estimates first: the page keeps about its height (and its scroll
  // position) through the layout that measures the drawn rows, for the next windows.
  v.top.style.height = `${before}px`;
  v.bottom.style.height = `${after}px`;
  let measured = 0;
  let count = 0;
  for (let i = 0; i < nodes.length; i++) {
    const next = i + 1 < nodes.length ? nodes[i + 1] : v.bottom;
    const hpx = next.offsetTop - nodes[i].offsetTop;
    if (hpx > 0) { heights.set(shown[i].op_id, hpx); measured += hpx; count += 1; }
  }
  if (count) v.estimate = Math.round(measured / count);
  v.bottom.style.height = `${sorted.slice(last).reduce((sum, item) => sum + height(item), 0)}px`;
  v.top.style.height = `${sorted.slice(0, first).reduce((sum, item) => sum + height(item), 0)}px`;
  // Rows of items gone from the list are forgotten.
  if (v.rows.size > sorted.length + 200) {
    const present = new Set(sorted.map((i) => i.op_id));
    for (const key of v.rows.keys()) if (!present.has(key)) { v.rows.delete(key); heights.delete(key); }
  }
}

/**
 * Render the queue screen, or bring the one on screen up to date: counts, last sync, the
 * rows whose item changed, the window of rows at the scroll position.
 */
export function renderQueue(root, ctx) {
  const { items, counts } = ctx;
  if (!view || view.root !== root || !view.section.isConnected) {
    view = buildView(root, ctx);
  }
  const v = view;
  v.ctx = ctx;
  if (v.clients !== ctx.clients) { v.rows.clear(); v.clients = ctx.clients; }  // names changed
  const sorted = sortedItems(items);
  v.sorted = sorted; v.sortedFrom = items;
  for (const k of ORDER) {
    const text = labelled(bucketLabel(k), counts[k]);
    if (v.countCells[k].textContent !== text) v.countCells[k].textContent = text;
    v.countCells[k].dataset.count = counts[k];
  }
  v.lastSync.textContent = fmt(gettext('Dernière synchronisation réussie : %(when)s'), { when: dateTime(ctx.lastSync) });
  const error = ctx.syncError ? fmt(gettext('Dernier essai : %(error)s'), { error: ctx.syncError }) : null;
  if ((v.errorSlot.textContent || null) !== error) {
    mount(v.errorSlot, error ? h('p', { class: 'warning', id: 'sync-error' }, error) : null);
  }
  v.rowCtx = { ...ctx, firstFailure: sorted[0] && bucket(sorted[0]) === 'failed' ? sorted[0].op_id : null };
  const content = sorted.length ? v.list : v.empty;
  if (v.listSlot.firstChild !== content) mount(v.listSlot, content);
  if (sorted.length) drawWindow(v);
  if (v.journal !== ctx.journal) {
    const open = v.journalSlot.querySelector('details')?.open;
    v.journal = ctx.journal;
    mount(v.journalSlot, journalBlock(ctx.journal || []));
    if (open) v.journalSlot.querySelector('details').open = true;
  }
}

function journalBlock(entries) {
  return h('details', { class: 'journal', id: 'journal' },
    h('summary', {}, fmt(gettext('Journal (%(n)s)'), { n: entries.length })),
    entries.length ? h('ul', {}, entries.map((e) => h('li', {}, h('span', { class: 'muted' }, dateTime(e.at)),
      ` ${labelled(e.where, e.message)}`)))
      : h('p', { class: 'muted' }, gettext('Aucune erreur enregistrée.')));
}
