// The lots screen: the open lots (cached, or opened on this tablet) and the
// button that opens a new one, offline too.

import { fmt, gettext } from '../i18n.js';
import { h, mount } from './dom.js';
import { TYPES, typeLabel } from './labels.js';

/** Render the open lots and the "open a lot" form. */
export function renderLots(root, { lots, onOpen }) {
  const type = h('select', { id: 'lot-type' }, TYPES.map((t) => h('option', { value: t }, typeLabel(t))));
  mount(root, h('section', { class: 'card lots' },
    h('h1', {}, gettext('Lots ouverts')),
    h('form', { class: 'inline', onsubmit: (event) => { event.preventDefault(); onOpen(type.value); } },
      h('label', { for: 'lot-type' }, gettext('Type de lot')), type,
      h('button', { type: 'submit', class: 'primary', id: 'open-lot' }, gettext('Ouvrir un lot'))),
    lots.length ? h('ul', { class: 'items', id: 'lot-list' }, lots.map((lot) => h('li', {
      class: 'item', dataset: { key: lot.key, local: lot.local ? '1' : '0' } },
    h('strong', {}, lot.label), ' ',
    lot.local ? h('span', { class: 'badge badge-device' }, gettext('numéro attribué à la synchronisation')) : null,
    h('span', { class: 'muted' }, ` · ${fmt(gettext('%(n)s colis sur cette tablette'), { n: lot.count || 0 })}`))))
      : h('p', { class: 'muted' }, gettext('Aucun lot ouvert.'))));
}
