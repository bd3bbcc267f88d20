// The queue screen: each item with its state, counts per state, the last
// successful sync, and the actions on failed items.

import { fieldError, photoError, stepLabel, taskError } from '../codes.js';
import { bytes, dateTime, fmt, gettext, number } from '../i18n.js';
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
  else if (photo.offset) text = uploadText(photo, ctx.live?.photo?.photo_id === photo.photo_id ? ctx.live.photo.rate : null);
  else text = fmt(gettext('Photo sur la tablette (%(size)s)'), { size: bytes(photo.size) });
  const why = server === 'failed' && error;
  return h('p', { class: 'photo-line muted' }, text, why ? ` : ${photoError(why)}` : null);
}

function errorList(errors) {
  const entries = Object.entries(errors || {}).filter(([k]) => k !== 'current');
  if (!entries.length) return null;
  return h('ul', { class: 'errors' }, entries.map(([field, messages]) => h('li', {},
    `${fieldLabel(field)} : ${[].concat(messages).map(fieldError).join(' ')}`)));
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

/** Render the queue screen. */
export function renderQueue(root, ctx) {
  const { items, counts } = ctx;
  const sorted = [...items].sort((a, b) => LIST_ORDER.indexOf(bucket(a)) - LIST_ORDER.indexOf(bucket(b))
    || b.created_at.localeCompare(a.created_at));
  const rowCtx = { ...ctx, firstFailure: sorted.find((i) => bucket(i) === 'failed')?.op_id };
  mount(root, h('section', { class: 'card queue' },
    h('h1', {}, gettext("File d'attente")),
    h('div', { class: 'counts', id: 'queue-counts' }, ORDER.map((k) => h('span', {
      class: `count badge-${k}`, dataset: { bucket: k, count: counts[k] } }, `${bucketLabel(k)} : ${counts[k]}`))),
    h('p', { id: 'last-sync' }, fmt(gettext('Dernière synchronisation réussie : %(when)s'), { when: dateTime(ctx.lastSync) })),
    ctx.syncError ? h('p', { class: 'warning', id: 'sync-error' }, fmt(gettext('Dernier essai : %(error)s'), { error: ctx.syncError })) : null,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', id: 'export', onclick: ctx.onExport },
        gettext("Exporter la file d'attente (fichier)"))),
    sorted.length ? h('ul', { class: 'items', id: 'queue-items' }, sorted.map((i) => row(i, rowCtx)))
      : h('p', { class: 'muted' }, gettext('Aucun colis en attente.')),
    journalBlock(ctx.journal || [])));
}

function journalBlock(entries) {
  return h('details', { class: 'journal', id: 'journal' },
    h('summary', {}, fmt(gettext('Journal (%(n)s)'), { n: entries.length })),
    entries.length ? h('ul', {}, entries.map((e) => h('li', {}, h('span', { class: 'muted' }, dateTime(e.at)),
      ` ${e.where} : ${e.message}`)))
      : h('p', { class: 'muted' }, gettext('Aucune erreur enregistrée.')));
}
