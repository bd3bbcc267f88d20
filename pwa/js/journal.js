// The journal: every error the app catches, kept on the tablet (the newest 50) and shown
// on the queue screen, so nothing fails silently. The page and the service worker write it.

import { kvGet, kvSet } from './db.js';

const KEY = 'journal';
const KEEP = 50;

/** Listeners for 'change' (a new entry). */
export const events = new EventTarget();

/** Record that `where` failed with `error`; never throws. */
export async function note(where, error) {
  const message = String(error?.message || error || '?').slice(0, 300);
  console.warn(`colis-sync ${where}:`, error);
  try {
    const entries = (await kvGet(KEY)) || [];
    entries.unshift({ at: new Date().toISOString(), where, message });
    await kvSet(KEY, entries.slice(0, KEEP));
    events.dispatchEvent(new Event('change'));
  } catch (failure) {
    console.error('colis-sync: the journal itself failed', failure);
  }
}

/** The entries, newest first. */
export async function entries() {
  return (await kvGet(KEY)) || [];
}
