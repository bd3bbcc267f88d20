// The colis form: lot, client search, transport, weight and sizes, payment,
// description, photo, and the live price estimate. Render and local state only;
// saving is the caller's `onSave`.

import { fieldError, photoError } from '../codes.js';
import { measureProblem, textProblem } from '../limits.js';
import { estimate } from '../pricing.js';
import { bytes, fmt, gettext, number } from '../i18n.js';
import { h, mount } from './dom.js';
import { fieldLabel, PAIEMENTS, paiementLabel, TYPES, typeLabel } from './labels.js';

const NUMBERS = ['poids', 'longueur', 'largeur', 'hauteur'];

function normalise(text) {
  return String(text || '').toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

/** Clients whose name or phone matches `query` (offline search over the cache). */
export function searchClients(clients, query, limit = 8) {
  const q = normalise(query).trim();
  if (!q) return [];
  const digits = q.replace(/\D/g, '');
  return clients.filter((c) => {
    const name = normalise(`${c.nom} ${c.prenom} ${c.prenom} ${c.nom}`);
    const phone = String(c.telephone || '').replace(/\D/g, '');
    return q.split(/\s+/).every((w) => name.includes(w)) || (digits.length >= 3 && phone.includes(digits));
  }).slice(0, limit);
}

/** A client's display label. */
export function clientLabel(c) {
  return c ? `${c.nom} ${c.prenom || ''}`.trim() + (c.telephone ? ` — ${c.telephone}` : '') : '';
}

function decimalText(value) {
  return String(value ?? '').trim().replace(',', '.');
}

/** Render the form into `root`. */
export function renderForm(root, ctx) {
  const { lots, clients, tariffs, initial = null, mode = 'new', errors = {} } = ctx;
  const data = initial?.data || {};
  let client = clients.find((c) => c.id === Number(data.client)) || (data.client
    ? { id: Number(data.client), nom: initial?.labels?.client || `#${data.client}`, prenom: '' } : null);
  let photoJob = null;
  let photoInfo = null;

  const field = (name, ...children) => h('div', { class: `field field-${name}` }, ...children,
    h('p', { class: 'field-error', id: `err-${name}` }, [].concat(errors[name] || errors[name === 'lot' ? 'lot_op_id' : name] || [])
      .map(fieldError).join(' ')));

  const lotSelect = h('select', { id: 'f-lot', required: true, disabled: mode !== 'new' },
    h('option', { value: '' }, gettext('— choisir un lot —')),
    lots.map((lot) => h('option', { value: lot.key, dataset: { type: lot.type_lot } }, lot.label)));
  lotSelect.value = initial?.lot_key || ctx.lastLot || '';
  if (!lotSelect.value && lots.length === 1) lotSelect.value = lots[0].key;

  const typeSelect = h('select', { id: 'f-type', disabled: mode !== 'new' },
    TYPES.map((t) => h('option', { value: t }, typeLabel(t))));
  const lotType = () => lotSelect.selectedOptions[0]?.dataset.type;
  typeSelect.value = data.type_transport || lotType() || 'cargo';
  lotSelect.addEventListener('change', () => { typeSelect.value = lotType() || typeSelect.value; update(); });
  typeSelect.addEventListener('change', () => update());

  const chosen = h('div', { class: 'client-chosen', id: 'f-client-chosen' });
  const results = h('ul', { class: 'client-results', id: 'f-client-results' });
  const search = h('input', { id: 'f-client-search', type: 'search', autocomplete: 'off',
    placeholder: gettext('Nom ou téléphone'), oninput: () => showResults() });
  function showResults() {
    mount(results, searchClients(clients, search.value).map((c) => h('li', {},
      h('button', { type: 'button', class: 'client-pick', dataset: { id: c.id },
        onclick: () => { client = c; search.value = ''; showResults(); showClient(); } }, clientLabel(c)))));
    if (search.value.trim() && !results.children.length) {
      results.append(h('li', { class: 'muted' }, gettext('Aucun client trouvé sur la tablette.')));
    }
  }
  function showClient() {
    mount(chosen, client ? [h('strong', {}, clientLabel(client)),
      client.ville_destination ? h('span', { class: 'muted' }, ` · ${client.ville_destination}`) : null]
      : h('span', { class: 'muted' }, gettext('Aucun client choisi')));
  }

  const inputs = Object.fromEntries(NUMBERS.map((name) => [name, h('input', { id: `f-${name}`,
    inputmode: 'decimal', autocomplete: 'off', value: data[name] ?? '', oninput: () => update() })]));
  const paiement = h('select', { id: 'f-paiement' }, PAIEMENTS.map((p) => h('option', { value: p }, paiementLabel(p))));
  paiement.value = data.mode_paiement || 'non_paye';
  const description = h('textarea', { id: 'f-description', rows: 2 }, data.description || '');

  // The browser's own file button speaks the system's language: ours speaks the agent's.
  const photoInput = h('input', { id: 'f-photo', type: 'file', accept: 'image/*', capture: 'environment',
    class: 'visually-hidden' });
  const photoPreview = h('div', { class: 'photo-preview', id: 'f-photo-info' });
  photoInput.addEventListener('change', () => {
    const file = photoInput.files?.[0];
    photoInfo = null;
    if (!file) { mount(photoPreview); photoJob = null; return; }
    photoPreview.dataset.state = 'compressing';
    mount(photoPreview, h('span', { class: 'muted' }, gettext('Compression de la photo…')));
    const job = ctx.onPhoto(file).then((result) => {
      if (job !== photoJob) return result;
      photoInfo = result;
      photoPreview.dataset.state = 'ready';
      const url = URL.createObjectURL(result.blob);
      mount(photoPreview, h('img', { src: url, alt: '', onload: () => URL.revokeObjectURL(url) }),
        h('span', {}, fmt(gettext('%(size)s (%(w)s×%(h)s), compressée en %(ms)s ms, au lieu de %(orig)s'), {
          size: bytes(result.blob.size), w: result.width, h: result.height,
          ms: Math.round(result.ms), orig: bytes(result.originalBytes) })));
      return result;
    }, (error) => {
      photoPreview.dataset.state = 'error';
      // The browser's own words (« InvalidStateError: … ») stay out of sight, in English.
      console.warn('photo not decoded', error);
      mount(photoPreview, h('span', { class: 'error', title: String(error.message) },
        error.code ? photoError(error.code)
          : gettext("Photo illisible : ce fichier n'est pas une image que la tablette sait lire. Choisissez une autre photo.")));
      return null;
    });
    photoJob = job;
  });

  const price = h('p', { class: 'estimate', id: 'f-estimate' });
  function values() {
    return { lot_key: lotSelect.value, type_transport: typeSelect.value, client: client?.id ?? null,
      ...Object.fromEntries(NUMBERS.map((n) => [n, decimalText(inputs[n].value)])),
      mode_paiement: paiement.value, description: description.value.trim() };
  }
  function update() {
    const quote = estimate(tariffs, typeSelect.value, values());
    if (!quote) {
      price.textContent = tariffs.length ? gettext('Prix estimé : saisir poids et dimensions')
        : gettext('Prix estimé : tarifs pas encore chargés');
      return;
    }
    const unit = typeSelect.value === 'bateau' ? 'm³' : 'kg';
    price.textContent = fmt(gettext('Prix estimé : %(amount)s %(currency)s (%(quantity)s %(unit)s taxables)'), {
      amount: number(quote.amount, quote.currency === 'XOF' ? 0 : 2), currency: quote.currency,
      quantity: number(quote.quantity, 3), unit });
    price.dataset.amount = quote.amount;
  }

  function check(v) {
    const found = {};
    if (!v.lot_key && mode === 'new') found.lot = [gettext('Choisir un lot.')];
    if (!v.client) found.client = [gettext('Choisir un client.')];
    const say = ([message, params]) => [fmt(gettext(message), params)];
    for (const n of NUMBERS) {
      const problem = measureProblem(n, v[n]);
      if (problem) found[n] = say(problem);
    }
    const problem = textProblem(v.description);
    if (problem) found.description = say(problem);
    return found;
  }
  // The control of each field, for aria-invalid and focus (the client's is its search box).
  const controls = () => ({ lot: lotSelect, type_transport: typeSelect, client: search, ...inputs,
    mode_paiement: paiement, description, photo_id: photoInput });
  function showErrors(found, { focus = false } = {}) {
    const byField = controls();
    for (const el of root.querySelectorAll('.field-error')) {
      const name = el.id.slice(4);
      const messages = [].concat(found[name] || (name === 'lot' ? found.lot_op_id : null) || []);
      el.textContent = messages.map(fieldError).join(' ');
      el.closest('.field')?.classList.toggle('invalid', messages.length > 0);
      const control = byField[name];
      if (!control) continue;
      if (messages.length) {
        control.setAttribute('aria-invalid', 'true');
        control.setAttribute('aria-describedby', el.id);
      } else {
        control.removeAttribute('aria-invalid');
      }
    }
    if (focus) {
      const first = Object.keys(byField).find((name) => byField[name].getAttribute('aria-invalid') === 'true');
      if (first) { byField[first].focus(); byField[first].scrollIntoView({ block: 'center' }); }
    }
  }

  const status = h('p', { class: 'save-status', id: 'save-status', role: 'status' });
  const saveButton = h('button', { type: 'submit', class: 'primary big', id: 'save' },
    mode === 'new' ? gettext('Enregistrer') : gettext('Enregistrer les changements'));
  const form = h('form', { class: 'card colis-form', id: 'colis-form', novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      const v = values();
      const found = check(v);
      showErrors(found, { focus: true });
      if (Object.keys(found).length) {
        status.textContent = gettext('Vérifier les champs en rouge.');
        status.dataset.kind = 'error';
        return;
      }
      delete status.dataset.kind;
      saveButton.disabled = true;
      try {
        const photo = photoJob ? await photoJob : null;
        status.textContent = await ctx.onSave(v, photo, { client });
        status.dataset.saved = String(Number(status.dataset.saved || 0) + 1);
        if (mode === 'new') reset();
      } catch (error) {
        status.textContent = `${gettext('Enregistrement impossible : ')}${error.message || error}`;
        status.dataset.kind = 'error';
      } finally {
        saveButton.disabled = false;
      }
    } },
  h('h1', {}, ctx.title || gettext('Nouveau colis')),
  mode !== 'new' && initial?.summary ? h('p', { class: 'muted' }, initial.summary) : null,
  h('div', { class: 'grid two' },
    field('lot', h('label', { for: 'f-lot' }, gettext('Lot')), lotSelect),
    field('type_transport', h('label', { for: 'f-type' }, gettext('Type de transport')), typeSelect)),
  field('client', h('label', { for: 'f-client-search' }, gettext('Client')), chosen, search, results),
  h('div', { class: 'grid four' }, NUMBERS.map((n) => field(n, h('label', { for: `f-${n}` }, fieldLabel(n)), inputs[n]))),
  h('div', { class: 'grid two' },
    field('mode_paiement', h('label', { for: 'f-paiement' }, gettext('Mode de paiement')), paiement),
    mode !== 'correct' ? field('photo_id', h('span', { class: 'label' }, gettext('Photo')), photoInput,
      h('label', { for: 'f-photo', class: 'photo-button' }, mode === 'new' ? gettext('Prendre ou choisir une photo')
        : gettext('Ajouter / remplacer la photo')), photoPreview) : h('div')),
  field('description', h('label', { for: 'f-description' }, gettext('Description')), description),
  price,
  // Sticky at the bottom of the screen: the agent saves without scrolling, and reads the
  // confirmation (or what to fix) right beside the button.
  h('div', { class: 'actions sticky-actions' }, saveButton,
    ctx.onCancel ? h('button', { type: 'button', class: 'secondary', onclick: ctx.onCancel }, gettext('Annuler')) : null,
    status));

  function reset() {
    client = null; photoJob = null; photoInfo = null;
    for (const n of NUMBERS) inputs[n].value = '';
    description.value = ''; photoInput.value = ''; search.value = '';
    paiement.value = 'non_paye';
    mount(photoPreview); delete photoPreview.dataset.state; showClient(); showResults(); update();
    search.focus();
  }

  mount(root, form);
  showClient(); update();
  if (Object.keys(errors).length) showErrors(errors);
  return { values, get photo() { return photoInfo; } };
}
