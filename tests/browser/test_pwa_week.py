"""A long backlog (a week offline, scaled down to a few hundred items): the queue draws only the
rows near the viewport, shows the right ones while scrolling, keeps its counts right as items
are refused, cancelled and synced, and the top bar warns when the storage room runs low."""

import pytest
from playwright.sync_api import expect

from server.cargo.models import Client, Colis

from .pwa import login, open_lot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]
N = 300

# The storage estimate with the room left set by the test (window.__room, bytes): the real
# usage, a quota that many bytes above it.
ROOM = """
const realEstimate = navigator.storage.estimate.bind(navigator.storage);
Object.defineProperty(navigator.storage, 'estimate', { value: async () => {
  const real = await realEstimate();
  return { usage: real.usage, quota: real.usage + (globalThis.__room ?? 8 * 2 ** 30) };
} });
"""

# N colis through the form's save path (outbox.addColis), one in three with a small photo.
FILL = """async ({ n, lot, client }) => {
  const outbox = await import('/app/js/outbox.js');
  const canvas = new OffscreenCanvas(64, 48);
  canvas.getContext('2d').fillRect(0, 0, 32, 24);
  const photo = await canvas.convertToBlob({ type: 'image/jpeg' });
  const ids = [];
  for (let i = 0; i < n; i++) {
    const data = { type_transport: 'cargo', client, poids: String(1 + i), longueur: '40',
      largeur: '30', hauteur: '20', mode_paiement: 'non_paye', description: `Semaine ${i}`, ...lot };
    const item = await outbox.addColis(data, { photo: i % 3 ? null : photo, labels: {} });
    ids.push(item.op_id);
  }
  return ids;
}"""

RECOUNT = """async () => { const outbox = await import('/app/js/outbox.js');
  return outbox.counts(await outbox.all()); }"""


def shown(page) -> list[str]:
    return page.eval_on_selector_all("#queue-items .item", "(rows) => rows.map((r) => r.dataset.op)")


def counts(page) -> dict[str, int]:
    return page.eval_on_selector_all(
        "#queue-counts .count", "(cells) => Object.fromEntries(cells.map((c) => [c.dataset.bucket, "
        "Number(c.dataset.count)]))")


def expect_counts(page, **wanted) -> None:
    for bucket, n in wanted.items():
        expect(page.locator(f'#queue-counts .count[data-bucket="{bucket}"]')).to_have_attribute(
            "data-count", str(n), timeout=30_000)
    assert counts(page) == page.evaluate(RECOUNT)  # the index counts = a count of every item


def test_a_long_queue_is_virtualised_and_its_counts_follow_the_items(server, context, page):
    context.add_init_script(ROOM)
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    key = page.input_value("#f-lot")
    lot = {"lot": int(key[3:])} if key.startswith("id:") else {"lot_op_id": key[3:]}
    ids = page.evaluate(FILL, {"n": N, "lot": lot, "client": Client.objects.first().pk})
    page.click("#tab-queue")
    expect_counts(page, device=N + 1)  # the lot opened offline is queued too
    # Newest first, and only the rows near the viewport.
    rows = shown(page)
    newest = ids[::-1]
    assert rows[:20] == newest[:20]
    assert 10 <= len(rows) <= 80

    # Scrolling draws the next rows, in order, and never many at once; the end is reached.
    order = page.evaluate("""async () => (await (await import('/app/js/outbox.js')).all())
      .sort((a, b) => b.created_at.localeCompare(a.created_at)).map((i) => i.op_id)""")
    seen = set()
    for _ in range(200):
        rows = shown(page)
        assert len(rows) <= 80
        start = order.index(rows[0])
        assert rows == order[start:start + len(rows)]  # a slice of the list, in its order
        seen.update(rows)
        if page.evaluate("innerHeight + scrollY >= document.documentElement.scrollHeight - 2"):
            break
        page.mouse.wheel(0, 2500)
        page.wait_for_timeout(50)
    assert seen == set(order)
    expect(page.locator(f'#queue-items .item[data-op="{order[-1]}"]')).to_be_in_viewport()

    # Refused and cancelled: the counts move, the failures head the list.
    refused, cancelled = ids[:3], ids[3:5]
    page.evaluate("""async ({ refused, cancelled }) => {
      const outbox = await import('/app/js/outbox.js');
      for (const id of refused) await outbox.refuse(id);
      for (const id of cancelled) await outbox.requestCancel(id, { reason: 'agent_cancelled' });
    }""", {"refused": refused, "cancelled": cancelled})
    expect_counts(page, device=N + 1 - 5, failed=3, cancelled=2)
    page.evaluate("scrollTo(0, 0)")
    expect(page.locator("#queue-items .item").first).to_have_attribute("data-bucket", "failed")
    assert set(shown(page)[:3]) == set(refused)

    # Little room left: the top bar warns at the next estimate after a write.
    expect(page.locator("#storage-warning")).to_have_count(0)
    page.evaluate("globalThis.__room = 500 * 2 ** 20")
    page.evaluate(f"""async () => (await import('/app/js/outbox.js')).requestCancel('{ids[5]}',
      {{ reason: 'agent_cancelled' }})""")
    expect(page.locator("#storage-warning")).to_be_visible(timeout=20_000)

    # Online, the backlog syncs: the counts follow, the rows drawn stay few.
    context.set_offline(False)
    expect_counts(page, device=0, sent=0, processing=0, completed=N + 1 - 6, failed=3, cancelled=3)
    assert Colis.objects.count() == N - 6
    assert len(shown(page)) <= 80
