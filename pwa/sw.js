// The service worker: precaches the shell under a versioned cache name (the
// server writes the version and the file list in), drops old caches on
// activate, answers navigations from the cache when offline, and runs a sync
// cycle on Background Sync. It never caches POSTs nor the API.

import { SYNC_TAG, syncOnce } from './js/sync.js';

const VERSION = '__SHELL_VERSION__';
const SHELL = "__SHELL_FILES__";
const PREFIX = 'colis-shell-';
const CACHE = `${PREFIX}${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

async function fromCache(request, fallbackUrl) {
  const cache = await caches.open(CACHE);
  // Django varies on Accept-Language and Cookie; the shell is the same for all.
  const hit = await cache.match(request, { ignoreVary: true })
    || (fallbackUrl && await cache.match(fallbackUrl, { ignoreVary: true }));
  if (hit) return hit;
  return fetch(request);
}

async function catalog(request) {
  // The translations: the network when it answers (fresh), else the cached copy.
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const hit = await cache.match(request, { ignoreVary: true });
    if (hit) return hit;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith('/app/')) return;
  if (request.mode === 'navigate') {
    event.respondWith(fromCache('/app/', '/app/'));
  } else if (url.pathname === '/app/jsi18n/') {
    event.respondWith(catalog(request));
  } else {
    event.respondWith(fromCache(request));
  }
});

async function tellClients(message) {
  for (const client of await self.clients.matchAll({ includeUncontrolled: true })) {
    client.postMessage(message);
  }
}

self.addEventListener('sync', (event) => {
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(syncOnce().then(
    (result) => tellClients({ type: 'synced', ok: result.ok }),
    (error) => tellClients({ type: 'synced', ok: false, error: String(error) }),
  ));
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') self.skipWaiting();
});
