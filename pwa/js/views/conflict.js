// The conflict view: the tablet's version and the server's, side by side;
// the agent chooses which one stands.

import { gettext } from '../i18n.js';
import { h, mount } from './dom.js';
import { EDITABLE, fieldLabel } from './labels.js';

/** Render both versions of a colis and the two choices. */
export function renderConflict(root, { local, server, note, onKeepLocal, onKeepServer, onClose }) {
  const fields = EDITABLE.filter((f) => f in local || f in (server || {}));
  mount(root, h('section', { class: 'card conflict', id: 'conflict' },
    h('h1', {}, gettext('Conflit : deux versions de ce colis')),
    h('p', {}, note || gettext('La fiche a changé sur le serveur pendant que la tablette la modifiait. Choisir la version à garder.')),
    h('table', { class: 'versions' },
      h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, gettext('Version de la tablette')),
        h('th', {}, gettext('Version du serveur')))),
      h('tbody', {}, fields.map((f) => h('tr', { class: String(local[f] ?? '') !== String(server?.[f] ?? '') ? 'differs' : '' },
        h('th', {}, fieldLabel(f)), h('td', {}, String(local[f] ?? '—')), h('td', {}, String(server?.[f] ?? '—')))))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', id: 'keep-local', onclick: onKeepLocal }, gettext('Garder la version de la tablette')),
      h('button', { type: 'button', class: 'secondary', id: 'keep-server', onclick: onKeepServer }, gettext('Garder la version du serveur')),
      h('button', { type: 'button', class: 'secondary', onclick: onClose }, gettext('Fermer')))));
}
