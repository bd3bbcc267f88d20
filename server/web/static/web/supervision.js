// « Synchronisation »: refresh the agents/devices table and queue health in place.
import { poll } from './poll.js';
import './confirm.js';

const INTERVAL_MS = 10000;
const live = document.getElementById('live');

async function tick() {
  const response = await fetch(live.dataset.fragmentUrl, { credentials: 'same-origin' });
  if (!response.ok || response.redirected) throw new Error(`live: ${response.status}`);
  live.innerHTML = await response.text();
}

if (live) poll(tick, INTERVAL_MS);

const all = document.querySelector('[data-check-all]');
all?.addEventListener('change', () => {
  for (const box of document.querySelectorAll('input[name="task"][form="selected"]')) {
    box.checked = all.checked;
  }
});
