// The settings screen: language, storage, account.

import { bytes, fmt, gettext, LANGUAGES } from '../i18n.js';
import { h, mount } from './dom.js';

function importBlock(onImport) {
  if (!onImport) return null;
  const input = h('input', { type: 'file', id: 'import-file', accept: 'application/json,.json', hidden: true,
    onchange: (e) => { const [file] = e.target.files; e.target.value = ''; if (file) onImport(file); } });
  return [h('h2', {}, gettext("Reprendre une autre tablette")),
    h('p', { class: 'hint' }, gettext("Le fichier exporté depuis la file d'attente d'une autre tablette (même agent) : ses éléments s'ajoutent à cette file et partent à la synchronisation, sans doublon.")),
    input,
    h('button', { type: 'button', class: 'secondary', id: 'import', onclick: () => input.click() },
      gettext("Importer une file d'attente (fichier)"))];
}

/** Render settings: language picker, storage use and persistence, importing a queue, the login. */
export function renderSettings(root, { lang, storage, auth, onLanguage, onPersist, onLogout, onImport }) {
  const picker = h('select', { id: 'language', onchange: (e) => onLanguage(e.target.value) },
    LANGUAGES.map(([code, name]) => h('option', { value: code }, name)));
  picker.value = lang;
  const used = storage?.quota ? fmt(gettext('%(used)s utilisés sur %(quota)s (%(pct)s %)'), {
    used: bytes(storage.usage), quota: bytes(storage.quota),
    pct: Math.round((100 * storage.usage) / storage.quota) }) : gettext('inconnu');
  mount(root, h('section', { class: 'card settings' },
    h('h1', {}, gettext('Réglages')),
    h('label', { for: 'language' }, gettext('Langue'), picker),
    h('h2', {}, gettext('Stockage')),
    h('p', { id: 'storage-used' }, used),
    h('p', { id: 'storage-persisted' }, storage?.persisted ? gettext('Stockage persistant accordé : le navigateur ne videra pas la file.')
      : gettext('Stockage non persistant : le navigateur pourrait vider les données si la place manque.')),
    storage?.persisted ? null : h('button', { type: 'button', class: 'secondary', onclick: onPersist }, gettext('Demander le stockage persistant')),
    h('h2', {}, gettext('Tableaux de bord')),
    h('p', { class: 'hint' }, gettext('Pages en ligne du serveur (connexion avec le même identifiant).')),
    h('nav', { class: 'dashboards' },
      h('a', { href: '/taches/', id: 'link-tasks' }, gettext('Mes tâches')), ' · ',
      h('a', { href: '/lots/', id: 'link-lots' }, gettext('Lots et étiquettes')),
      ['supervisor', 'admin'].includes(auth?.user?.role)
        ? [' · ', h('a', { href: '/supervision/', id: 'link-supervision' }, gettext('Synchronisation'))]
        : null,
      ' · ', h('a', { href: `/aide/agents/?lang=${encodeURIComponent(lang)}`, id: 'link-guide' }, gettext("Aide : guide de l'agent"))),
    importBlock(onImport),
    h('h2', {}, gettext('Tablette')),
    h('p', {}, fmt(gettext('Connecté : %(user)s sur « %(device)s »'), { user: auth?.user?.username || '—', device: auth?.device_name || '—' })),
    h('button', { type: 'button', class: 'danger', id: 'logout', onclick: onLogout }, gettext('Se déconnecter (la file est gardée)'))));
}
