// Fetch wrapper: adds the device token, turns network failures and 401s into
// typed errors. A 401 marks the login as needed but never touches the outbox.

import { kvDelete, kvGet, kvSet } from './db.js';

export class NetworkError extends Error {}

export class HttpError extends Error {
  constructor(response, body) {
    super(`HTTP ${response.status}`);
    this.status = response.status;
    this.body = body;
  }
}

export class AuthRequired extends HttpError {}

/** Listeners for 'auth-required' (the token was refused). */
export const events = new EventTarget();

/** The stored login: { token, device_id, device_name, user, needs_login }. */
export function currentAuth() {
  return kvGet('auth');
}

/** fetch() with the token; throws NetworkError, AuthRequired (401); other statuses are returned. */
export async function request(path, { method = 'GET', json, body, headers = {}, timeoutMs = 30000 } = {}) {
  const auth = await currentAuth();
  const all = { ...headers };
  if (auth?.token) all.Authorization = `Token ${auth.token}`;
  if (json !== undefined) { all['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  let response;
  try {
    response = await fetch(path, { method, headers: all, body, credentials: 'omit',
      signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new NetworkError(String(error));
  }
  if (response.status === 401 && auth?.token) {
    await refuseToken();
    throw new AuthRequired(response, null);
  }
  return response;
}

/** The server refused the token: forget it (keep who was logged in) and ask to log in again. */
export async function refuseToken() {
  const auth = await currentAuth();
  if (auth) await kvSet('auth', { ...auth, token: null, needs_login: true });
  events.dispatchEvent(new Event('auth-required'));
}

/** Read a JSON body, tolerating an empty or non-JSON one. */
export async function jsonBody(response) {
  try { return await response.json(); } catch { return null; }
}

/** Log this tablet in; stores the token. Returns the stored login. */
export async function login(username, password, deviceName) {
  const response = await request('/api/v1/auth/device/', { method: 'POST',
    json: { username, password, device_name: deviceName } });
  const body = await jsonBody(response);
  if (response.status !== 201) throw new HttpError(response, body);
  const previous = await currentAuth();
  const auth = { token: body.token, device_id: body.device_id, device_name: deviceName,
    user: body.user, needs_login: false, logged_in_at: new Date().toISOString() };
  await kvSet('auth', auth);
  // A new device token may see a different changes feed: read it again from the start.
  if (previous?.device_id !== body.device_id) await kvDelete('cursor');
  return auth;
}

/** Log this tablet out: forget the token here and revoke it on the server, now or once online. */
export async function logout() {
  const auth = await currentAuth();
  if (auth?.token) {
    const pending = (await kvGet('logout_pending')) || [];
    await kvSet('logout_pending', [...pending, auth.token]);
  }
  await kvSet('auth', { ...auth, token: null, needs_login: false });
  await flushLogouts();
}

/** Revoke the tokens of past logouts that could not reach the server; keep those still unsent. */
export async function flushLogouts() {
  const pending = (await kvGet('logout_pending')) || [];
  const unsent = [];
  for (const token of pending) {
    try {
      const response = await fetch('/api/v1/auth/logout/', { method: 'POST', credentials: 'omit',
        headers: { Authorization: `Token ${token}` }, signal: AbortSignal.timeout(15000) });
      // 204 revoked, 401 already revoked or expired: done either way. Anything else: later.
      if (response.status !== 204 && response.status !== 401) unsent.push(token);
    } catch {
      unsent.push(token);
    }
  }
  if (unsent.length !== pending.length) await kvSet('logout_pending', unsent);
}

if (typeof window !== 'undefined') {  // the page, not the service worker
  window.addEventListener('online', () => { flushLogouts(); });
  flushLogouts();
}
