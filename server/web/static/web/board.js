// « Mes tâches »: apply the changes feed to the tables in place, every few seconds.
import { poll, getJSON } from './poll.js';
import './confirm.js';

const INTERVAL_MS = 4000;
const board = document.getElementById('board');

/** Parse one <tr> of server-rendered HTML. */
function rowFrom(html) {
  const table = document.createElement('tbody');
  table.innerHTML = html.trim();
  return table.firstElementChild;
}

/** Put a changed task where it now belongs: moved, replaced, or removed from the board. */
function applyItem(item) {
  const old = board.querySelector(`tr[data-task-id="${CSS.escape(item.task_id)}"]`);
  const body = item.section && board.querySelector(`tbody[data-section="${item.section}"]`);
  if (!body) {
    old?.remove();
    return;
  }
  const row = rowFrom(item.html);
  if (row.dataset.colisId) { // « Terminées » shows a colis once: its newest task replaces the others
    const same = body.querySelectorAll(`tr[data-colis-id="${CSS.escape(row.dataset.colisId)}"]`);
    same.forEach((other) => { if (other !== old) other.remove(); });
  }
  if (old && old.parentElement === body) {
    old.replaceWith(row);
  } else if (old || body.dataset.page === '1') {
    old?.remove();
    body.prepend(row); // newest first, as the page orders them
  }
  row.classList.add('changed');
  setTimeout(() => row.classList.remove('changed'), 1500);
}

function applyCounts(counts) {
  if (!counts) return;
  for (const [name, value] of Object.entries(counts)) {
    const cell = document.querySelector(`[data-count="${name}"]`);
    if (cell) cell.textContent = value;
  }
}

async function tick() {
  const url = new URL(board.dataset.changesUrl, location.href);
  do {
    url.searchParams.set('since', board.dataset.cursor);
    const page = await getJSON(url);
    page.items.forEach(applyItem);
    applyCounts(page.counts);
    board.dataset.cursor = page.cursor;
    if (!page.has_more) break;
  } while (true); // eslint-disable-line no-constant-condition
}

if (board) poll(tick, INTERVAL_MS);
