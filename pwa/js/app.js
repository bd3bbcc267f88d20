// The page controller: wires the views to the outbox and the sync loop.

import * as api from './api.js';
import { compressPhoto } from './compress.js';
import * as db from './db.js';
import { chooseLanguage, currentLanguage, fmt, gettext, loadCatalog, ngettext } from './i18n.js';
import * as importer from './importer.js';
import * as journal from './journal.js';
import * as outbox from './outbox.js';
import * as progress from './progress.js';
import * as sync from './sync.js';
import { renderCancel, renderMove } from './views/choices.js';
import * as leases from './leases.js';
import { renderConflict } from './views/conflict.js';
import { h, mount } from './views/dom.js';
import { clientLabel, renderForm } from './views/form.js';
import { autoPrint, labelFields, printLabel, renderLabelSettings, renderSaved } from './views/label.js';
import { EDITABLE, typeLabel } from './views/labels.js';
import { renderLogin } from './views/login.js';
import { renderLots } from './views/lots.js';
import { renderQueue } from './views/queue.js';
import { renderSettings } from './views/settings.js';
import { renderTopbar } from './views/topbar.js';

// The near-quota warning: past 80 % of the quota, or with at most ROOM_WARNING left. Chromium
// reports the quota as the usage plus the free disk rounded up to whole GiB (measured on a
// 700 MB disk: usage + 1 GiB at 5, 208 and 410 MB used; bench/week.py): the ratio alone stays
// under 30 % with a week offline (2,000 colis ≈ 400 MB) until the disk is full. « 1 GiB left »
// is the finest it tells: under 1 GiB free, about 5,000 photos. A save refused for lack of
// room warns too.
const QUOTA_WARNING = 0.8;
const ROOM_WARNING = 1024 * 1024 * 1024;
const STORAGE_EVERY_MS = 10000;
const config = readConfig();
const metrics = { saves: [] };
globalThis.colisMetrics = metrics;
const state = { tab: 'form', items: [], photos: {}, clients: [], lots: [], tariffs: [], auth: null,
  storage: null, overlay: null, lastSync: null, referenceAt: null, started: false };
let loop = null;
const $ = (id) => document.getElementById(id);

function readConfig() {
  // Test and tuning knobs: localStorage 'colis.config' = {"baseMs":…, "idleMs":…, "maxMs":…,
  // "changesMs":…, "bgsync":false}.
  try { return JSON.parse(localStorage.getItem('colis.config') || '{}'); } catch { return {}; }
}

/** Everything from IndexedDB, the items and photo states too (on start and login). */
function refreshLocal() {
  noteChanges({ all: true });  // read in turn with the changes (an older read never lands last)
  return Promise.all([changed.running, refreshMeta()]);
}

async function loadAll() {
  const [items, photos, counts] = await Promise.all([outbox.all(), outbox.photoStates(), outbox.countNow()]);
  Object.assign(state, { items, photos, counts });
}

/**
 * Apply the outbox writes announced since the last call (outbox.changes): read back only
 * the items and photos they touched, and the counts from the state index. One read at a
 * time, in order; the changes announced meanwhile wait for the next one.
 */
const changed = { items: new Set(), photos: new Set(), all: false, running: null };
function noteChanges(detail) {
  if (detail.items?.length || detail.photos?.length) measureStorageSoon();
  for (const k of detail.items || []) changed.items.add(k);
  for (const k of detail.photos || []) changed.photos.add(k);
  changed.all ||= Boolean(detail.all);
  if (!changed.running) changed.running = applyChanges().finally(() => { changed.running = null; });
}

async function applyChanges() {
  while (changed.items.size || changed.photos.size || changed.all) {
    const opIds = [...changed.items];
    const photoIds = [...changed.photos];
    const all = changed.all;
    changed.items.clear(); changed.photos.clear(); changed.all = false;
    if (all) { await loadAll(); } else {
      const [items, photos, counts] = await Promise.all([outbox.itemsByKey(opIds), outbox.photoStatesOf(photoIds),
        outbox.countNow()]);
      const fresh = new Map(items.map((i) => [i.op_id, i]));
      const gone = new Set(opIds.filter((k) => !fresh.has(k)));
      // The objects of untouched items stay the same (the queue redraws the others only).
      const next = state.items.filter((i) => !gone.has(i.op_id)).map((i) => {
        const item = fresh.get(i.op_id);
        if (item) fresh.delete(i.op_id);
        return item || i;
      });
      next.push(...[...fresh.values()].sort((a, b) => a.created_at.localeCompare(b.created_at)));
      state.items = next;
      for (const [k, photo] of Object.entries(photos)) {
        if (photo) state.photos[k] = photo; else delete state.photos[k];
      }
      state.counts = counts;
    }
    // After a whole read the caller draws, once the reference data is in too.
    if (!all && state.metaReady && document.body.dataset.screen === 'app') render();
  }
}

/** The meta data, and the outbox writes of this page so far applied (after an action). */
function refreshAfterWrite() {
  return Promise.all([refreshMeta(), changed.running]);
}

/** The rest: last sync, journal, lots, reference data (a few rows each). */
async function refreshMeta() {
  const [lastSync, referenceAt, entries] = await Promise.all([db.kvGet('last_sync_ok'), db.kvGet('reference_at'),
    journal.entries()]);
  Object.assign(state, { lastSync, journal: entries });
  // Lots every time (a few rows, and a closed one must go at once); clients and tariffs
  // when the reference data changed.
  [state.lots, state.closedLots] = await Promise.all([db.getAll('lots'), db.kvGet('closed_lots')]);
  if (referenceAt !== state.referenceAt || !state.tariffs.length) {
    const [clients, tariffs] = await Promise.all([db.getAll('clients'), db.getAll('tariffs')]);
    Object.assign(state, { clients, tariffs, referenceAt });
  }
  document.body.dataset.refReady = state.tariffs.length && state.clients.length ? '1' : '0';
  state.metaReady = true;
}

function lotChoices() {
  const serverByOp = new Set(state.lots.map((l) => l.op_id).filter(Boolean));
  const counts = {};
  for (const i of state.items) {
    if (i.op !== 'create') continue;
    const key = i.data.lot ? `id:${i.data.lot}` : `op:${i.data.lot_op_id}`;
    counts[key] = (counts[key] || 0) + 1;
  }
  const serverIds = new Set(state.lots.map((l) => l.id));
  // A lot opened on the tablet, until the reference data lists it; once known to the server,
  // only while the server still lists it open (a closed lot is offered no more).
  const local = state.items.filter((i) => i.op === 'open_lot' && !serverByOp.has(i.op_id)
    && !['invalid', 'cancelled', 'cancelling', 'failed_final', 'failed'].includes(i.state)
    && !(state.closedLots || []).includes(i.lot?.id)
    && (!i.lot?.id || serverIds.has(i.lot.id) || Date.parse(i.done_at || 0) > Date.parse(state.referenceAt || 0)))
    .map((i) => ({ key: i.lot?.id ? `id:${i.lot.id}` : `op:${i.op_id}`, type_lot: i.data.type_lot, local: !i.lot,
      label: i.lot?.numero_lot || fmt(gettext('%(type)s — nouveau lot'), { type: typeLabel(i.data.type_lot) }) }));
  const server = state.lots.map((l) => ({ key: `id:${l.id}`, type_lot: l.type_lot, label: l.numero_lot, op_id: l.op_id }));
  const all = [...local.filter((l) => !server.some((s) => s.key === l.key)), ...server];
  for (const lot of all) lot.count = counts[lot.key] || 0;
  return all;
}

function lotKeys() {
  return lotChoices().map((l) => l.key).join();
}

function lotFields(key) {
  if (key.startsWith('id:')) return { lot: Number(key.slice(3)) };
  const opId = key.slice(3);
  const opened = state.items.find((i) => i.op_id === opId);
  if (opened?.lot?.id) return { lot: opened.lot.id };
  const server = state.lots.find((l) => l.op_id === opId);
  return server ? { lot: server.id } : { lot_op_id: opId };
}

/** The lot the agent last chose or opened, under the key lotChoices gives it now: a lot
 * opened on the tablet is `op:<op_id>` until the server numbers it, then `id:<id>`. */
function lastLotKey() {
  const key = localStorage.getItem('colis.lastLot') || '';
  if (!key.startsWith('op:')) return key;
  const { lot } = lotFields(key);
  return lot ? `id:${lot}` : key;
}

function counts() {
  return state.counts || outbox.counts(state.items);
}

function renderChrome() {
  if (document.body.dataset.screen !== 'app') return;
  const storageWarning = state.storageFull || nearQuota(state.storage)
    ? gettext('Stockage presque plein : synchroniser ou exporter la file dès que possible.') : null;
  renderTopbar($('topbar'), $('banners'), { online: navigator.onLine, counts: counts(),
    running: sync.status.running, tab: state.tab, storageWarning,
    onTab: (tab) => {
      Object.assign(state, { tab, overlay: null, focusFailure: false });
      renderMain(); renderChrome(); scrollTo(0, 0);
      // The form and the lots offer the open lots: a lot closed meanwhile (the sync says so
      // after the items) goes at once, before anything could be typed.
      if (tab === 'form' || tab === 'lots') {
        const before = lotKeys();
        refreshMeta().then(() => {
          if (state.tab === tab && !state.overlay && lotKeys() !== before) renderMain();
        });
      }
    },
    onSync: () => loop?.now(), update: state.updateReady ? () => location.reload() : null, live: progress.live,
    onShowFailure: () => {
      state.tab = 'queue'; state.overlay = null; state.focusFailure = true;
      scrollTo(0, 0);  // the failures head the list: drawn from its top
      renderMain(); renderChrome();
      $('first-failure')?.scrollIntoView({ block: 'center' });
    } });
}

function renderMain() {
  const main = $('main');
  if (state.overlay) return state.overlay(main);
  if (state.tab === 'form') return showForm(main);
  if (state.tab === 'queue') return showQueue(main);
  if (state.tab === 'lots') return renderLots(main, { lots: lotChoices(), onOpen: openLot });
  return showSettings(main);
}

function render() {
  if (document.body.dataset.screen !== 'app') return;  // the login screen stays until a login
  renderChrome();
  // A form on screen (new colis, or an edit over the queue) keeps what the agent is
  // typing: it is drawn on navigation only, not on every sync status.
  if (!$('colis-form') || (state.tab !== 'form' && !state.overlay)) renderMain();
}

function kickSync() {
  if (config.bgsync !== false) sync.requestBackgroundSync().catch(() => {});
  setTimeout(() => loop?.now(), 0);
}

function afterWrite() {
  // The items written come back through outbox.changes; lots and leases may have moved too.
  refreshAfterWrite().then(() => { renderChrome(); if (state.tab !== 'form') renderMain(); });
  kickSync();
}

/** An item's data as the agent should see it now: the server's newest colis once it exists. */
function shownData(item) {
  const colis = outbox.currentColis(item);
  if (!colis || item.op !== 'create') return item.data;
  const fromServer = Object.fromEntries(EDITABLE.filter((f) => colis[f] !== undefined).map((f) => [f, colis[f]]));
  return { ...item.data, ...fromServer };
}

function showForm(main, { item = null, mode = 'new', errors = {} } = {}) {
  const initial = item ? { data: mode === 'edit' ? shownData(item) : item.data, labels: item.labels, lot_key: item.data.lot ? `id:${item.data.lot}` : `op:${item.data.lot_op_id}`,
    summary: item.task?.colis?.numero_suivi || '' } : null;
  renderForm(main, { lots: lotChoices(), clients: state.clients, tariffs: state.tariffs, lastLot: lastLotKey(),
    initial, mode, errors, title: item ? gettext('Modifier le colis') : null,
    onPhoto: (file) => compressPhoto(file),
    onSave: (values, photo, { client }) => (item ? saveEdit(item, mode, values, client, photo)
      : saveNew(values, photo, client)),
    onCancel: item ? () => { state.overlay = null; state.tab = 'queue'; render(); } : null });
}

async function saveNew(values, photo, client) {
  const { lot_key: lotKey, ...rest } = values;
  const data = { ...rest, ...lotFields(lotKey) };
  const labels = { client: clientLabel(client), lot: lotChoices().find((l) => l.key === lotKey)?.label };
  const started = performance.now();
  let item;
  try {
    item = await outbox.addColis(data, { photo: photo?.blob || null, labels });
  } catch (error) {
    if (error?.name !== 'QuotaExceededError') throw error;
    state.storageFull = true;
    renderChrome();
    throw new Error(gettext('stockage plein sur la tablette : synchroniser ou exporter la file, puis réessayer.'));
  }
  const ms = performance.now() - started;
  state.storageFull = false;
  // The save time travels with the item: the server's « Résultats » show its p50 and p95.
  outbox.noteSaveTime(item.op_id, ms).catch((error) => journal.note('save-time', error));
  metrics.saves.push({ ms, photoBytes: photo?.blob?.size || 0, originalBytes: photo?.originalBytes || 0,
    compressMs: photo?.ms || 0 });
  localStorage.setItem('colis.lastLot', lotKey);
  showSaved(item);
  afterWrite();
  return fmt(gettext('Colis enregistré sur la tablette : %(client)s, %(poids)s kg.'),
    { client: clientLabel(client).split(' — ')[0], poids: values.poids });
}

/** The saved colis' numéro in large type beside the save button, and its label. */
function showSaved(item) {
  const fields = labelFields(item, state.clients);
  $('saved-numero')?.remove();
  document.querySelector('#colis-form .sticky-actions')?.append(renderSaved(fields, () => printLabel(fields)));
  if (fields.numero && autoPrint()) printLabel(fields);
}

function changesOf(item, values) {
  const before = shownData(item);
  const changes = {};
  for (const f of EDITABLE) if (String(values[f] ?? '') !== String(before[f] ?? '')) changes[f] = values[f];
  return changes;
}

function latestFor(colisId) {
  // The newest op touching this colis: an in-flight one to chain on, or the newest version known.
  const ops = state.items.filter((i) => i.task?.colis?.id === colisId || (i.op === 'update' && i.data.colis === colisId));
  return ops.sort((a, b) => b.created_at.localeCompare(a.created_at))[0] || null;
}

async function saveEdit(item, mode, values, client, photo = null) {
  const { lot_key: _lot, ...fields } = values;
  const labels = { ...item.labels, client: clientLabel(client) };
  if (mode === 'correct' && item.state === 'invalid') {
    await outbox.correct(item, { ...fields, ...(item.data.lot || item.data.lot_op_id ? {} : lotFields(_lot)) });
  } else if (mode === 'correct') {
    const result = await sync.retryTask(item.task.task_id, changesOf(item, fields));
    if (result.errors) throw new Error(Object.values(result.errors).flat().join(' '));
  } else if (item.state === 'queued' && await outbox.editQueued(item.op_id, fields, labels, photo?.blob)) {
    // Changed in place: it had never left the tablet.
  } else {
    const changes = changesOf(item, fields);
    if (!Object.keys(changes).length && !photo) return gettext('Aucun changement.');
    const colis = item.task?.colis;
    const last = colis ? latestFor(colis.id) : null;
    const inFlight = last && last.op_id !== item.op_id && !outbox.TERMINAL.includes(last.state);
    const base = { labels: { ...labels, numero_suivi: colis?.numero_suivi }, previous: item.data,
      photo: photo?.blob || null };
    if (colis && item.state === 'completed' && !inFlight) {
      const version = Math.max(colis.version, ...state.items.filter((i) => i.task?.colis?.id === colis.id)
        .map((i) => i.task.colis.version));
      await outbox.addUpdate(changes, { ...base, colisId: colis.id, baseVersion: version });
    } else {
      await outbox.addUpdate(changes, { ...base, dependsOn: inFlight ? last.op_id : item.op_id });
    }
  }
  state.overlay = null; state.tab = 'queue';
  afterWrite();
  setTimeout(render, 0);
  return gettext('Modification enregistrée sur la tablette.');
}

function showQueue(main) {
  renderQueue(main, { items: state.items, photos: state.photos, counts: counts(), lastSync: state.lastSync,
    live: progress.live,
    syncError: syncErrorText(sync.status.lastError), journal: state.journal,
    journalOpen: state.journalOpen, onJournalToggle: (open) => { state.journalOpen = open; },
    clientName: (id) => clientLabel(state.clients.find((c) => c.id === Number(id))),
    onAction: (action, item) => ITEM_ACTIONS[action](item),
    onExport: exportOutbox });
  // The banner's « Voir le premier »: the first failure keeps the focus across redraws
  // (sync status redraws the queue) until the agent goes elsewhere.
  if (state.focusFailure) $('first-failure')?.focus({ preventScroll: true });
}

// What each action of the queue does (which ones an item offers: outbox.actionsFor).
const ITEM_ACTIONS = {
  print: (item) => printLabel(labelFields(item, state.clients)),
  edit: (item) => overlay((m) => showForm(m, { item, mode: 'edit' })),
  photo: (item) => {
    overlay((m) => showForm(m, { item, mode: 'edit' }));
    document.querySelector('label[for="f-photo"]')?.scrollIntoView({ block: 'center' });
    $('f-photo')?.focus();
  },
  correct: (item) => overlay((m) => showForm(m, { item, mode: 'correct', errors: item.errors })),
  resolve: (item) => overlay((m) => showConflict(m, item)),
  move: (item) => overlay((m) => showMove(m, item)),
  retry: (item) => act(() => sync.retryTask(item.task.task_id)),
  resend: (item) => act(async () => { await outbox.resend(item.op_id); kickSync(); }),
  discard: (item) => overlay((m) => showCancel(m, item)),
  cancel: (item) => overlay((m) => showCancel(m, item)),
};

function closeOverlay() {
  state.overlay = null; state.tab = 'queue';
  afterWrite(); render();
}

function showCancel(main, item) {
  renderCancel(main, { title: item.op === 'update' ? gettext('Annuler la modification') : gettext('Annuler ce colis'),
    onChoose: async (reason) => { await outbox.requestCancel(item.op_id, { reason }); closeOverlay(); },
    onClose: () => { state.overlay = null; render(); } });
}

function showMove(main, item) {
  const type = item.data.type_transport || item.task?.lot?.type_lot
    || state.lots.find((l) => l.id === Number(item.data.lot))?.type_lot;
  const closed = item.data.lot ? `id:${item.data.lot}` : `op:${item.data.lot_op_id}`;
  const lots = lotChoices().filter((l) => l.key !== closed && (!type || l.type_lot === type));
  renderMove(main, { lots, type: type ? typeLabel(type) : '',
    onChoose: async (key) => { await outbox.moveToLot(item, lotFields(key)); closeOverlay(); },
    onNewLot: async () => {
      const lot = await outbox.addOpenLot(type || 'cargo');
      await outbox.moveToLot(item, { lot_op_id: lot.op_id });
      localStorage.setItem('colis.lastLot', `op:${lot.op_id}`);
      closeOverlay();
    },
    onClose: () => { state.overlay = null; render(); } });
}

function syncErrorText(error) {
  if (!error) return null;
  if (error === 'offline') return gettext('Hors ligne');
  if (/network|fetch/i.test(error)) return gettext('Pas de réseau : réessayer plus tard.');
  return error;
}

function overlay(draw) {
  state.overlay = draw;
  state.focusFailure = false;
  renderMain();
  scrollTo(0, 0);
}

async function act(fn) {
  try { await fn(); } catch (error) {
    toast(error instanceof api.NetworkError ? gettext('Pas de réseau : réessayer plus tard.') : String(error.message || error));
    await journal.note('action', error);
  }
  await refreshAfterWrite(); render();
}

function showConflict(main, item) {
  const server = item.task?.errors?.current || item.task?.colis || null;
  const local = item.op === 'update' ? { ...item.previous, ...item.data } : item.data;
  renderConflict(main, { local, server,
    clientName: (id) => clientLabel(state.clients.find((c) => c.id === Number(id))),
    note: item.state === 'conflict' ? gettext('Le serveur a déjà reçu ce colis avec d\'autres données.') : null,
    onKeepServer: async () => { await outbox.dismiss(item.op_id); state.overlay = null; afterWrite(); render(); },
    onKeepLocal: async () => {
      const changes = Object.fromEntries(EDITABLE.filter((f) => f in item.data).map((f) => [f, item.data[f]]));
      if (server?.id && server?.version) {
        const update = await outbox.addUpdate(changes, { colisId: server.id, baseVersion: server.version,
          labels: { ...item.labels, numero_suivi: server.numero_suivi }, previous: server });
        await outbox.dismiss(item.op_id, update.op_id);
      } else if (item.task && item.op === 'create') {
        // The server is still making its own colis for this op_id: edit that one once it exists.
        await outbox.addUpdate(changes, { dependsOn: item.op_id, labels: item.labels, previous: item.data });
        await outbox.adoptServerTask(item.op_id);
      } else {
        await outbox.correct(item, {});
      }
      state.overlay = null; afterWrite(); render();
    },
    onClose: () => { state.overlay = null; render(); } });
}

async function exportOutbox() {
  const body = await outbox.exportAll({ device: state.auth?.device_name || null, user: state.auth?.user?.username || null });
  const blob = new Blob([JSON.stringify(body)], { type: 'application/json' });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  const link = h('a', { href: URL.createObjectURL(blob), download: `colis-outbox-${stamp}.json` });
  document.body.append(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

async function openLot(type) {
  const item = await outbox.addOpenLot(type);
  localStorage.setItem('colis.lastLot', `op:${item.op_id}`);
  toast(gettext('Lot ouvert sur la tablette ; son numéro arrivera à la synchronisation.'));
  await refreshAfterWrite();
  state.tab = 'form'; render();
  kickSync();
}

async function showSettings(main) {
  renderSettings(main, { lang: currentLanguage(), storage: state.storage, auth: state.auth,
    onLanguage: (lang) => { chooseLanguage(lang); location.reload(); },
    onPersist: async () => { await navigator.storage?.persist?.(); await measureStorage(); renderMain(); },
    onLogout: async () => { await api.logout(); location.reload(); },
    onImport: async (file) => {
      try {
        const n = await importer.importFile(file, { user: state.auth?.user?.username || null });
        toast(fmt(gettext('File importée : %(added)s éléments ajoutés, %(skipped)s ignorés, %(photos)s photos.'), n));
      } catch (error) { toast(importer.refusalText(error)); }
      afterWrite();
    } });
  const section = main.querySelector('.settings');
  const numeros = await leases.summary();
  // Drawn again meanwhile (an outbox change): that drawing adds its own.
  if (section?.isConnected) section.append(...renderLabelSettings(numeros));
}

function nearQuota(storage) {
  if (!storage?.quota) return false;
  return storage.usage / storage.quota > QUOTA_WARNING || storage.quota - storage.usage <= ROOM_WARNING;
}

async function measureStorage() {
  if (!navigator.storage?.estimate) return;
  const [estimate, persisted] = await Promise.all([navigator.storage.estimate(), navigator.storage.persisted?.()]);
  state.storage = { usage: estimate.usage || 0, quota: estimate.quota || 0, persisted: Boolean(persisted) };
}

// The storage estimate again after writes, at most every STORAGE_EVERY_MS (a few ms each).
const measureStorageSoon = throttle(() => {
  if (state.started) measureStorage().then(renderChrome).catch(() => {});
}, STORAGE_EVERY_MS);

function throttle(fn, ms) {
  let timer = null;
  return () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; fn(); }, ms);
  };
}

function toast(text) {
  const el = $('toast');
  el.textContent = text; el.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove('show'), 4000);
}

async function checkAuth() {
  // The service worker may have met the 401: the stored login says so.
  const auth = await api.currentAuth();
  if (!auth?.token && document.body.dataset.screen === 'app') await showLogin();
}

async function showLogin() {
  if (document.body.dataset.screen === 'login') return;
  state.auth = await api.currentAuth();
  await refreshLocal();
  const waiting = outbox.unsent(state.items).length;
  mount($('topbar')); mount($('banners'));
  document.body.dataset.screen = 'login';
  renderLogin($('main'), { auth: state.auth,
    pending: waiting ? fmt(ngettext('%(n)s élément attend sur la tablette', '%(n)s éléments attendent sur la tablette', waiting), { n: waiting }) : '',
    onLogin: async (username, password, deviceName) => {
      try {
        state.auth = await api.login(username, password, deviceName);
        await leases.forget();  // a new device: the last one's leases are void
      } catch (error) {
        if (error instanceof api.NetworkError) return gettext('Pas de réseau : la connexion demande le réseau une fois.');
        if (error.status === 401 || error.status === 400) return gettext('Identifiants invalides.');
        if (error.status === 429) return gettext('Trop de tentatives : réessayer dans un quart d\'heure, ou demander au superviseur.');
        return fmt(gettext('Erreur du serveur (%(status)s).'), { status: error.status });
      }
      await startApp();
      return null;
    } });
}

async function startApp() {
  document.body.dataset.screen = 'app';
  state.auth = await api.currentAuth();
  await refreshLocal();
  render();
  if (!state.tariffs.length || !state.clients.length) {
    sync.refreshReference({ force: true }).then(refreshMeta).then(() => { if (state.tab === 'form') renderMain(); render(); })
      .catch((error) => journal.note('reference', error));
  }
  if (!state.started) {
    state.started = true;
    // Items and photos come back through outbox.changes (the rows a write touched, this page's
    // or the service worker's); a cycle's status and live progress redraw the rest.
    outbox.changes.addEventListener('change', (e) => noteChanges(e.detail));
    sync.events.addEventListener('status', () => refreshMeta().then(render));
    // Live progress (« Envoi 3/12 · photos 2/5 · 40 % », lots closed meanwhile): at most every 250 ms.
    const onProgress = throttle(() => refreshMeta().then(render), 250);
    progress.listen(onProgress);
    addEventListener('online', renderChrome);
    addEventListener('offline', renderChrome);
    navigator.serviceWorker?.addEventListener('message', (e) => {
      if (e.data?.type !== 'synced') return;
      if (!e.data.ok && e.data.error) journal.note('background-sync', e.data.error);
      refreshMeta().then(render).then(checkAuth);
    });
    journal.events.addEventListener('change', () => refreshMeta().then(() => { if (state.tab === 'queue') render(); }));
    loop = sync.startLoop({ baseMs: config.baseMs, idleMs: config.idleMs, maxMs: config.maxMs,
      changesMs: config.changesMs });
    navigator.storage?.persist?.().catch(() => {}).finally(() => measureStorage().then(renderChrome));
  } else {
    loop?.now();
  }
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  // A new service worker took over a page another one was serving: its code (and the
  // database's next version) is newer than this page's. Offer a reload rather than go on
  // with old modules against a new schema. The first install is no update.
  let hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (hadController) { state.updateReady = true; renderChrome(); }
    hadController = true;
  });
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/', type: 'module' })
    .catch((error) => journal.note('service-worker', error));
}

async function main() {
  await loadCatalog();
  registerServiceWorker();
  api.events.addEventListener('auth-required', () => showLogin());
  state.auth = await api.currentAuth();
  if (state.auth?.token) await startApp();
  else await showLogin();
}

main();
