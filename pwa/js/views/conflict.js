// The conflict view: the tablet's version and the server's, side by side;
// the agent chooses which one stands.

import { gettext, number } from '../i18n.js';
import { h, mount } from './dom.js';
import { EDITABLE, fieldLabel, paiementLabel } from './labels.js';

const NUMBERS = ['poids', 'longueur', 'largeur', 'hauteur'];

function same(field, a, b) {
  if (NUMBERS.includes(field)) return Number(a) === Number(b);  // 25 and "25.0" are one weight
  if (field === 'client') return String(a ?? '') === String(b ?? '');
  return String(a ?? '').trim() === String(b ?? '').trim();
}

/** Render both versions of a colis and the two choices. */
export function renderConflict(root, { local, server, note, clientName, onKeepLocal, onKeepServer, onClose }) {
  const fields = EDITABLE.filter((f) => f in local || f in (server || {}));
  const show = (field, value) => {
    if (value === undefined || value === null || value === '') return '—';
    if (field === 'client') return clientName(value) || `#${value}`;
    if (field === 'mode_paiement') return paiementLabel(value);
    if (NUMBERS.includes(field)) return number(value, field === 'poids' ? 3 : 1);
    return String(value);
  };
  mount(root, h('section', { class: 'card conflict', id: 'conflict' },
    h('h1', {}, gettext('Conflit : deux versions de ce colis')),
    h('p', {}, note || gettext('La fiche a changé sur le serveur pendant que la tablette la modifiait. Choisir la version à garder.')),
    h('table', { class: 'versions' },
      h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, gettext('Version de la tablette')),
        h('th', {}, gettext('Version du serveur')))),
      h('tbody', {}, fields.map((f) => h('tr', { class: same(f, local[f], server?.[f]) ? '' : 'differs' },
        h('th', {}, fieldLabel(f)), h('td', {}, show(f, local[f])), h('td', {}, show(f, server?.[f])))))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', id: 'keep-local', onclick: onKeepLocal }, gettext('Garder la version de la tablette')),
      h('button', { type: 'button', class: 'secondary', id: 'keep-server', onclick: onKeepServer }, gettext('Garder la version du serveur')),
      h('button', { type: 'button', class: 'secondary', onclick: onClose }, gettext('Fermer')))));
}
