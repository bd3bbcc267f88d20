// A small fetch-based tus 1.0 client (core + creation-with-upload). It works
// in a page and in a service worker (tus-js-client needs window and XHR).

export const TUS_VERSION = '1.0.0';
export const CHUNK_SIZE = 256 * 1024;
// A 256 KB chunk takes ~6 s at 400 kbit/s: past 30 s the connection is likely dead (a link
// that went down under it), and a new request gets a new one sooner than waiting longer.
// A caller sending several uploads at once gives each more time (`timeoutMs`).
const CHUNK_TIMEOUT_MS = 30000;

export class TusError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

function encodeMetadata(metadata) {
  return Object.entries(metadata)
    .map(([key, value]) => `${key} ${btoa(unescape(encodeURIComponent(String(value))))}`)
    .join(',');
}

function offsetOf(response) {
  const value = Number.parseInt(response.headers.get('Upload-Offset') ?? '', 10);
  return Number.isFinite(value) ? value : null;
}

async function send(url, init, timeoutMs) {
  try {
    return await fetch(url, { ...init, credentials: 'omit', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new TusError(`network: ${error}`, 0);
  }
}

async function create(endpoint, blob, metadata, headers, chunkSize, timeoutMs) {
  const response = await send(endpoint, { method: 'POST', body: blob.slice(0, chunkSize), headers: {
    ...headers, 'Tus-Resumable': TUS_VERSION, 'Upload-Length': String(blob.size),
    'Upload-Metadata': encodeMetadata(metadata), 'Content-Type': 'application/offset+octet-stream',
  } }, timeoutMs);
  if (response.status !== 201) throw new TusError(`create: HTTP ${response.status}`, response.status);
  const url = new URL(response.headers.get('Location'), new URL(endpoint, self.location.href)).href;
  return { url, offset: offsetOf(response) ?? 0 };
}

async function serverOffset(url, headers, timeoutMs) {
  const response = await send(url, { method: 'HEAD', headers: { ...headers, 'Tus-Resumable': TUS_VERSION } },
    timeoutMs);
  if (response.status === 404 || response.status === 410) return null;
  if (!response.ok) throw new TusError(`head: HTTP ${response.status}`, response.status);
  return offsetOf(response) ?? 0;
}

/**
 * Upload `blob`, resuming at the server's offset when `url` is known.
 * `onProgress({url, offset})` is awaited after every acknowledged chunk.
 */
export async function upload({ endpoint, blob, metadata, headers = {}, url = null,
  chunkSize = CHUNK_SIZE, timeoutMs = CHUNK_TIMEOUT_MS, onProgress = async () => {} }) {
  let offset = url ? await serverOffset(url, headers, timeoutMs) : null;
  if (offset === null) {
    ({ url, offset } = await create(endpoint, blob, metadata, headers, chunkSize, timeoutMs));
    await onProgress({ url, offset });
  }
  let restarts = 0;
  while (offset < blob.size) {
    const response = await send(url, { method: 'PATCH', body: blob.slice(offset, offset + chunkSize),
      headers: { ...headers, 'Tus-Resumable': TUS_VERSION, 'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream' } }, timeoutMs);
    if (response.status === 409) {
      offset = await serverOffset(url, headers, timeoutMs);
    } else if (response.status === 404 || response.status === 410) {
      offset = null;  // expired on the server: start again, once
    } else if (response.status === 204 || response.ok) {
      offset = offsetOf(response) ?? offset;
    } else {
      throw new TusError(`patch: HTTP ${response.status}`, response.status);
    }
    if (offset === null) {
      if (restarts++ > 1) throw new TusError('upload keeps disappearing', 404);
      ({ url, offset } = await create(endpoint, blob, metadata, headers, chunkSize, timeoutMs));
    }
    await onProgress({ url, offset });
  }
  return url;
}
