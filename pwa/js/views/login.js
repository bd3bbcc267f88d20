// The login screen: once per tablet (username, password, device name).

import { gettext } from '../i18n.js';
import { h, mount } from './dom.js';

/** Render the login form; `onLogin(username, password, deviceName)` returns an error text or null. */
export function renderLogin(root, { auth, pending, onLogin }) {
  const error = h('p', { class: 'error', id: 'login-error', role: 'alert' });
  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username',
    required: true, value: auth?.user?.username || '' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password',
    autocomplete: 'current-password', required: true });
  const device = h('input', { id: 'login-device', name: 'device', required: true,
    value: auth?.device_name || '', placeholder: gettext('ex. Tablette Guangzhou 1') });
  const button = h('button', { type: 'submit', class: 'primary big', id: 'login-submit' },
    gettext('Se connecter'));
  const form = h('form', { class: 'card login', onsubmit: async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = await onLogin(username.value.trim(), password.value, device.value.trim()) || '';
    button.disabled = false;
  } },
  h('h1', {}, gettext('Connexion de la tablette')),
  auth?.needs_login ? h('p', { class: 'warning', id: 'relogin-note' },
    gettext('La session de cette tablette a expiré ou a été révoquée. Reconnectez-vous : les colis en attente sont gardés.'),
    pending ? ` (${pending})` : '') : null,
  h('label', {}, gettext("Nom d'utilisateur"), username),
  h('label', {}, gettext('Mot de passe'), password),
  h('label', {}, gettext('Nom de la tablette'), device),
  button, error);
  mount(root, form);
  (auth?.user ? password : username).focus();
}
