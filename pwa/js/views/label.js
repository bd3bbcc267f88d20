// The 100 × 150 mm parcel label, made on the tablet (offline too): the numéro as text and
// as a QR code (qrcode-generator, vendored), the client, the destination, the weight and
// the lot. It prints through the browser's dialog; pwa/css/print.css shows it alone.

import qrcode from '../../vendor/qrcode-generator/qrcode.mjs';
import { gettext, number } from '../i18n.js';
import { currentColis } from '../outbox.js';
import { h, mount } from './dom.js';
import { typeLabel } from './labels.js';

const SVG = 'http://www.w3.org/2000/svg';
const AUTO_PRINT = 'colis.autoPrint';

/** The numéro an item carries: the server's colis once made, else the one leased at save. */
export function numeroOf(item) {
  return currentColis(item)?.numero_suivi || item?.data?.numero_suivi || '';
}

/** What the label of a create item shows, from the item and the cached clients. */
export function labelFields(item, clients = []) {
  const colis = currentColis(item);
  const client = clients.find((c) => c.id === Number(colis?.client ?? item.data.client));
  return {
    numero: numeroOf(item),
    client: client ? `${client.nom} ${client.prenom || ''}`.trim() : (item.labels?.client || '').split(' — ')[0],
    telephone: client?.telephone || '',
    destination: client ? [client.ville_destination, client.pays_destination].filter((p) => p && p !== '—').join(', ') : '',
    poids: colis?.poids ?? item.data.poids,
    lot: item.task?.lot?.numero_lot || item.labels?.lot || '',
    type: typeLabel(item.data.type_transport || item.task?.lot?.type_lot || ''),
  };
}

/** A QR code of `text` as an SVG element (no markup parsed: built node by node). */
export function qrSvg(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  const margin = 4;  // the quiet zone readers need
  const path = [];
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) path.push(`M${c + margin},${r + margin}h1v1h-1z`);
  }
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${n + 2 * margin} ${n + 2 * margin}`);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('class', 'label-qr');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', text);
  const back = document.createElementNS(SVG, 'rect');
  back.setAttribute('width', '100%'); back.setAttribute('height', '100%'); back.setAttribute('fill', '#fff');
  const dark = document.createElementNS(SVG, 'path');
  dark.setAttribute('d', path.join('')); dark.setAttribute('fill', '#000');
  svg.append(back, dark);
  return svg;
}

/** The label element for `fields` (see labelFields). */
export function renderLabel(fields) {
  const line = (name, label, value) => (value ? h('p', { class: `label-line label-${name}` },
    h('span', { class: 'label-key' }, label), ' ', h('strong', {}, value)) : null);
  return h('article', { class: 'parcel-label', id: 'parcel-label', dataset: { numero: fields.numero } },
    h('p', { class: 'label-brand' }, 'Colis sync', fields.type ? ` · ${fields.type}` : ''),
    h('p', { class: 'label-numero' }, fields.numero),
    qrSvg(fields.numero),
    line('client', gettext('Client'), [fields.client, fields.telephone].filter(Boolean).join(' · ')),
    line('destination', gettext('Destination'), fields.destination),
    line('poids', gettext('Poids'), fields.poids !== undefined && fields.poids !== '' ? `${number(fields.poids, 1)} kg` : ''),
    line('lot', gettext('Lot'), fields.lot));
}

/** Put the label of `fields` in the print area (only it prints) and open the print dialog. */
export function printLabel(fields) {
  let area = document.getElementById('print-area');
  if (!area) {
    area = h('div', { id: 'print-area' });
    document.body.append(area);
  }
  mount(area, renderLabel(fields));
  document.body.dataset.printing = fields.numero;
  window.print();
}

/** The save's confirmation: the numéro in large type and « Imprimer l'étiquette ». */
export function renderSaved(fields, onPrint) {
  return h('div', { class: 'saved-numero', id: 'saved-numero', role: 'status' },
    fields.numero ? h('p', { class: 'numero-big', id: 'saved-numero-text' }, fields.numero)
      : h('p', { class: 'muted' }, gettext('Numéro de suivi à la synchronisation (plus de numéros réservés sur la tablette).')),
    fields.numero ? h('button', { type: 'button', class: 'secondary', id: 'print-label', onclick: onPrint },
      gettext("Imprimer l'étiquette")) : null);
}

/** Whether a label prints by itself after each save (a setting of this tablet). */
export function autoPrint() {
  return localStorage.getItem(AUTO_PRINT) === '1';
}

/** The settings' block: numéros left on this tablet, and printing after each save. */
export function renderLabelSettings({ left, block }, onChange) {
  const box = h('input', { type: 'checkbox', id: 'auto-print', checked: autoPrint(),
    onchange: (e) => { localStorage.setItem(AUTO_PRINT, e.target.checked ? '1' : '0'); onChange?.(); } });
  return [h('h2', {}, gettext('Numéros et étiquettes')),
    h('p', { id: 'numeros-left', dataset: { left: String(left) } },
      h('strong', {}, String(left)), ' ', gettext('numéros de suivi réservés sur cette tablette'),
      block ? ` (${gettext('bloc de')} ${block})` : ''),
    h('p', { class: 'hint' }, gettext('Chaque colis enregistré prend le suivant, même hors ligne ; la synchronisation en réserve d\'autres.')),
    h('label', { for: 'auto-print', class: 'check' }, box, ' ', gettext("Imprimer l'étiquette après chaque enregistrement"))];
}
