// Loading an outbox exported from another tablet (docs/outbox-export.md) into this one:
// the other tablet's work, under its ORIGINAL op_ids, so the server answers "duplicate"
// for what it already has and nothing is made twice.

import * as db from './db.js';
import { fmt, gettext } from './i18n.js';

export const FORMAT = 'colis-sync-outbox';
export const VERSIONS = [1];
// The server has seen these through, or the agent asked them cancelled: they stay on the
// tablet they were made on.
const DONE = ['completed', 'cancelled', 'cancelling'];
const OPS = ['open_lot', 'create', 'update'];

/** A refused file: `code` is one of not_json, not_outbox, unknown_version, other_user. */
export class ImportError extends Error {
  constructor(code, params = {}) {
    super(code);
    this.code = code;
    this.params = params;
  }
}

/** The export object of a file's text, checked for format and version. */
export function parse(text) {
  let body;
  try { body = JSON.parse(text); } catch { throw new ImportError('not_json'); }
  if (!body || typeof body !== 'object' || body.format !== FORMAT) throw new ImportError('not_outbox');
  if (!VERSIONS.includes(body.version)) throw new ImportError('unknown_version', { version: String(body.version) });
  if (!Array.isArray(body.items) || !Array.isArray(body.photos)) throw new ImportError('not_outbox');
  return body;
}

/** Why a file was refused, in the agent's language. */
export function refusalText(error) {
  if (!(error instanceof ImportError)) return fmt(gettext('Import impossible : %(error)s'), { error: String(error?.message || error) });
  return fmt({
    not_json: gettext("Ce fichier n'est pas du JSON lisible."),
    not_outbox: gettext("Ce fichier n'est pas une file d'attente exportée par l'application."),
    unknown_version: gettext('Version de fichier inconnue (%(version)s) : cette application lit la version 1.'),
    other_user: gettext("Ce fichier est la file de « %(user)s » : connectez-vous avec ce compte pour l'importer."),
  }[error.code] || error.code, error.params);
}

function wellFormed(item) {
  return item && typeof item === 'object' && typeof item.op_id === 'string' && OPS.includes(item.op)
    && item.data && typeof item.data === 'object' && typeof item.created_at === 'string';
}

function blobOf(photo) {
  const text = atob(photo.data_base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Blob([bytes], { type: photo.type || 'image/jpeg' });
}

function photoRow(photo, item) {
  if (!photo || typeof photo.data_base64 !== 'string') return null;
  let blob;
  try { blob = blobOf(photo); } catch { return null; }  // bad base64: the item comes without it
  return { photo_id: item.photo_id, op_id: item.op_id, blob, type: blob.type, size: blob.size,
    upload_url: null, offset: 0, uploaded: Boolean(photo.uploaded) };
}

function requeued(item, byOpId, now) {
  const next = { ...item, state: 'queued', attempts: 0, server_errors: 0, refused: false,
    errors: {}, last_attempt_at: null, updated_at: now };
  // An edit of a colis the other tablet saw completed: that item stays behind, so the
  // edit names its colis now, as the other tablet would have sent it (outbox.js wireData).
  const dep = byOpId.get(item.depends_on);
  if (item.op === 'update' && !item.data.colis && dep && DONE.includes(dep.state) && dep.task?.colis?.id) {
    next.data = { ...item.data, colis: dep.task.colis.id, base_version: dep.task.colis.version };
  }
  return next;
}

/**
 * Add an exported file's items (original op_ids, sent again as 'queued') and their photos
 * to the outbox. Items already here, completed or cancelled (or being cancelled) are skipped. `user` is the
 * logged-in username: a file of another agent is refused. Resolves to {added, skipped, photos}.
 */
export async function importFile(file, { user = null } = {}) {
  const body = parse(await file.text());
  if (user && body.user && body.user !== user) throw new ImportError('other_user', { user: String(body.user) });
  const present = new Set((await db.getAll('items')).map((i) => i.op_id));
  const byOpId = new Map(body.items.filter(wellFormed).map((i) => [i.op_id, i]));
  const photos = new Map(body.photos.filter((p) => p && p.photo_id).map((p) => [p.photo_id, p]));
  const now = new Date().toISOString();
  const counts = { added: 0, skipped: 0, photos: 0 };
  for (const item of body.items) {
    if (!wellFormed(item) || present.has(item.op_id) || DONE.includes(item.state)) {
      counts.skipped += 1;
      continue;
    }
    const photo = item.photo_id ? photoRow(photos.get(item.photo_id), item) : null;
    await db.saveItem(requeued(item, byOpId, now), photo);
    present.add(item.op_id);
    counts.added += 1;
    if (photo) counts.photos += 1;
  }
  return counts;
}
