// « Synchronisation »: keep the agents/devices table and queue health current in place.
// Each poll names the version the page shows; the server answers 204 when nothing changed,
// else only what differs (changed rows, their order, the health card) or, rarely, the
// whole part. Ages (<time data-since>) are counted here between polls.
import { poll } from './poll.js';
import './confirm.js';

const INTERVAL_MS = 10000;
const live = document.getElementById('live');
let version = live?.dataset.version || '';
let skew = 0; // server clock − this clock, ms

function setClock(serverNow) {
  const at = Date.parse(serverNow);
  if (!Number.isNaN(at)) skew = at - Date.now();
}

/** Seconds as the server writes them (web_extras.duration): « 1 h 05 min », « 3 min 12 s », « 8 s ». */
export function duration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  const two = (n) => String(n).padStart(2, '0');
  if (hours) return `${hours} h ${two(minutes)} min`;
  if (minutes) return `${minutes} min ${two(secs)} s`;
  return `${secs} s`;
}

function refreshAges() {
  const now = Date.now() + skew;
  for (const time of live.querySelectorAll('time[data-since]')) {
    const at = Date.parse(time.getAttribute('datetime'));
    if (!Number.isNaN(at)) time.textContent = duration((now - at) / 1000);
  }
}

function parse(html) {
  const template = document.createElement('template');
  template.innerHTML = html;
  return template.content;
}

function apply(answer) {
  if (answer.full !== undefined) {
    live.innerHTML = answer.full;
    return;
  }
  const body = live.querySelector('tbody[data-rows]');
  const byKey = new Map([...body.rows].map((row) => [row.dataset.key, row]));
  for (const [key, html] of Object.entries(answer.rows)) {
    const row = parse(html).querySelector('tr');
    const old = byKey.get(key);
    if (old) old.replaceWith(row);
    else body.append(row);
    byKey.set(key, row);
  }
  if (answer.order) {
    const keep = new Set(answer.order);
    for (const [key, row] of byKey) if (!keep.has(key)) row.remove();
    for (const key of answer.order) body.append(byKey.get(key)); // moves, in order
  }
  if (answer.health) live.querySelector('section.health').replaceWith(parse(answer.health));
}

async function tick() {
  const url = new URL(live.dataset.fragmentUrl, window.location.href);
  url.searchParams.set('v', version);
  const response = await fetch(url, {
    credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' },
  });
  if (!response.ok || response.redirected) throw new Error(`live: ${response.status}`);
  if (response.status !== 204) {
    const answer = await response.json();
    setClock(answer.now);
    apply(answer);
    version = answer.version;
    live.dataset.version = version;
  }
  refreshAges();
}

if (live) {
  setClock(live.dataset.now);
  poll(tick, INTERVAL_MS);
}

const all = document.querySelector('[data-check-all]');
all?.addEventListener('change', () => {
  for (const box of document.querySelectorAll('input[name="task"][form="selected"]')) {
    box.checked = all.checked;
  }
});
