// The top bar: title, link state, counts, « Synchroniser maintenant », tabs.

import { fmt, gettext } from '../i18n.js';
import { h, mount } from './dom.js';

/** « Envoi 3/12 · photos 2/5 · 40 % » (photos gone of the cycle's, its bytes) while a cycle runs, else null. */
export function liveText(live) {
  if (!live?.phase) return null;
  const parts = [];
  if (live.total) parts.push(fmt(gettext('Envoi %(sent)s/%(total)s'), { sent: live.sent, total: live.total }));
  const photos = live.photos;
  if (photos) {
    parts.push(photos.total > 1
      ? fmt(gettext('photos %(done)s/%(n)s · %(pct)s %'), { done: photos.done, n: photos.total, pct: photos.pct })
      : fmt(gettext('photo %(pct)s %'), { pct: photos.pct }));
  }
  return parts.join(' · ') || null;
}

/** Render the header and the banners. */
export function renderTopbar(root, banners, ctx) {
  const { online, counts, running, tab, onTab, onSync, onShowFailure, storageWarning, update, live } = ctx;
  const waiting = counts.device + counts.sent + counts.processing;
  const tabButton = (key, label) => h('button', { type: 'button', class: `tab${tab === key ? ' active' : ''}`,
    id: `tab-${key}`, onclick: () => onTab(key) }, label);
  mount(root,
    h('div', { class: 'brand' }, 'Colis sync'),
    h('span', { class: `link ${online ? 'online' : 'offline'}`, id: 'link-state' },
      online ? gettext('En ligne') : gettext('Hors ligne')),
    h('span', { class: 'pending', id: 'pending-count' }, fmt(gettext('%(n)s en attente'), { n: waiting })),
    liveText(live) ? h('span', { class: 'live', id: 'live-progress', role: 'status' }, liveText(live)) : null,
    h('button', { type: 'button', class: 'primary', id: 'sync-now', disabled: running, onclick: onSync },
      running ? gettext('Synchronisation…') : gettext('Synchroniser maintenant')),
    h('nav', { class: 'tabs' },
      tabButton('form', gettext('Nouveau colis')),
      tabButton('queue', fmt(gettext("File d'attente (%(n)s)"), { n: waiting + counts.failed })),
      tabButton('lots', gettext('Lots')),
      tabButton('settings', gettext('Réglages'))));
  mount(banners,
    online ? null : h('p', { class: 'banner offline', id: 'offline-banner' },
      gettext('Hors ligne : les colis sont enregistrés sur la tablette et partiront dès que le réseau revient.')),
    counts.failed ? h('p', { class: 'banner failed', id: 'failed-banner' },
      fmt(gettext('%(n)s élément(s) en échec à traiter dans la file.'), { n: counts.failed }), ' ',
      h('button', { type: 'button', class: 'link-button', id: 'show-failure', onclick: onShowFailure },
        gettext('Voir le premier'))) : null,
    update ? h('p', { class: 'banner warning', id: 'update-banner' },
      gettext('Une nouvelle version de l\'application est prête.'), ' ',
      h('button', { type: 'button', class: 'link-button', id: 'reload-app', onclick: update },
        gettext('Recharger'))) : null,
    storageWarning ? h('p', { class: 'banner warning', id: 'storage-warning' }, storageWarning) : null);
}
