// A polling loop that runs only while the tab is visible.

/**
 * Call `tick` every `intervalMs` while the page is visible; stop when it is hidden,
 * run at once and resume when it shows again. `tick` may be async; calls never overlap.
 */
export function poll(tick, intervalMs) {
  let timer = null;
  let running = false;

  async function run() {
    timer = null;
    if (document.hidden || running) return;
    running = true;
    try {
      await tick();
    } catch (error) {
      console.warn('poll:', error); // the next round tries again
    } finally {
      running = false;
    }
    schedule();
  }

  function schedule() {
    if (timer === null && !document.hidden) timer = setTimeout(run, intervalMs);
  }

  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else if (timer === null) {
      run();
    }
  });
  schedule();
}

/** GET `url` as JSON (same-origin session cookie); throws on a non-2xx answer. */
export async function getJSON(url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}
