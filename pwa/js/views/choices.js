// Small choice screens of the queue: why an item is cancelled, and which lot a colis
// refused for its closed lot moves to. Render only; the caller acts.

import { fmt, gettext } from '../i18n.js';
import { h, mount } from './dom.js';

/** The reasons an agent may give (the server's cancel reason codes). */
export const CANCEL_REASONS = [
  ['agent_cancelled', () => gettext('Erreur de saisie ou colis retiré')],
  ['duplicate', () => gettext('Colis déjà enregistré (doublon)')],
];

/** Ask why an item is cancelled. */
export function renderCancel(root, { title, onChoose, onClose }) {
  mount(root, h('section', { class: 'card choices', id: 'cancel-item' },
    h('h1', {}, title),
    h('p', {}, gettext('Pourquoi ? Le serveur le saura aussi.')),
    h('div', { class: 'actions column' }, CANCEL_REASONS.map(([code, label]) => h('button', {
      type: 'button', class: 'danger', dataset: { reason: code }, onclick: () => onChoose(code) }, label())),
    h('button', { type: 'button', class: 'secondary', onclick: onClose }, gettext('Retour')))));
}

/** Offer the open lots of the colis' type, and a new lot opened on the tablet. */
export function renderMove(root, { lots, type, onChoose, onNewLot, onClose }) {
  mount(root, h('section', { class: 'card choices', id: 'move-lot' },
    h('h1', {}, gettext('Changer de lot')),
    h('p', {}, type ? fmt(gettext('Le lot de ce colis est fermé. Choisir un autre lot %(type)s :'), { type })
      : gettext('Le lot de ce colis est fermé. Choisir un autre lot :')),
    h('div', { class: 'actions column' },
      lots.map((lot) => h('button', { type: 'button', class: 'primary', dataset: { lot: lot.key },
        onclick: () => onChoose(lot.key) }, lot.label)),
      h('button', { type: 'button', class: 'secondary', id: 'move-new-lot', onclick: onNewLot },
        gettext('Ouvrir un nouveau lot et y mettre ce colis')),
      h('button', { type: 'button', class: 'secondary', onclick: onClose }, gettext('Retour')))));
}
