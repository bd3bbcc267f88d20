"""Photos go after the metadata by tus, in 256 KB chunks, resuming after a cut."""

import pytest
from playwright.sync_api import expect

from server.cargo.models import Colis
from sync.models import Upload

from .pwa import completed, login, open_lot, save_colis

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHUNK = 256 * 1024


def test_it_resumes_a_photo_upload_from_the_server_offset(server, context, page, noisy_photo_file):
    login(page, server.url)
    context.set_offline(True)
    open_lot(page)
    save_colis(page, photo=noisy_photo_file)
    seen = []

    def cut_second_chunk(route):
        request = route.request
        seen.append((request.method, len(request.post_data_buffer or b"")))
        if request.method == "PATCH" and not any(m == "cut" for m, _ in seen):
            route.fetch()  # the server writes the chunk, the answer is lost
            seen.append(("cut", 0))
            route.abort("connectionreset")
        else:
            route.continue_()

    context.route("**/api/v1/uploads/**", cut_second_chunk)
    context.set_offline(False)
    expect(completed(page)).to_have_count(1, timeout=30_000)
    expect(page.locator(".photo-line")).to_have_text("Photo prête", timeout=30_000)
    colis = Colis.objects.get()
    assert colis.photo_status == "ready" and colis.image
    methods = [m for m, _ in seen]
    sent = sum(size for m, size in seen if m in ("POST", "PATCH"))
    size = page.evaluate("globalThis.colisMetrics.saves[0].photoBytes")
    assert size > 2 * CHUNK, "the photo takes several chunks"
    assert methods[0] == "POST" and "cut" in methods and "HEAD" in methods
    assert all(n <= CHUNK for m, n in seen if m in ("POST", "PATCH"))
    assert sent < size + 2 * CHUNK, "resumed from the server's offset, not from zero"


# The photo requests the page and the service worker made: [start, end] in epoch ms.
UPLOAD_TIMES = """() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/api/v1/uploads/'))
  .map((e) => [performance.timeOrigin + e.startTime, performance.timeOrigin + e.responseEnd])"""
FORGET_UPLOAD = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open('colis-sync');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const store = open.result.transaction('photos', 'readwrite').objectStore('photos');
    const cursor = store.openCursor();
    cursor.onsuccess = () => {
      const photo = cursor.result.value;
      store.put({ ...photo, uploaded: false, upload_url: null, offset: 0 });
      resolve(photo.photo_id);
    };
  };
})"""


def test_it_uploads_photos_side_by_side_and_a_photo_sent_twice_makes_one(server, context, page,
                                                                          photo_file):
    """Four colis saved offline: their photos go side by side, PHOTOS_IN_FLIGHT at most. Then
    the tablet forgets that one photo went (as when it is closed between the server's answer
    and its own note): it sends that photo again, and every colis still has one photo, each
    colis once."""
    login(page, server.url)
    contexts = [page, *context.service_workers]
    for ctx in contexts:
        ctx.evaluate("() => performance.setResourceTimingBufferSize(10000)")
    context.set_offline(True)
    open_lot(page)
    for n in range(4):
        save_colis(page, photo=photo_file, description=f"Colis {n}")
    context.set_offline(False)
    expect(completed(page)).to_have_count(4, timeout=60_000)
    expect(page.locator(".photo-line")).to_have_text(["Photo prête"] * 4, timeout=30_000)
    edges = sorted((t, step) for ctx in contexts for start, end in ctx.evaluate(UPLOAD_TIMES)
                   for t, step in ((start, 1), (end, -1)))
    level, peak = 0, 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    lanes = page.evaluate("import('/app/js/sync.js').then((m) => m.PHOTOS_IN_FLIGHT)")
    assert 2 <= peak <= lanes, f"photos side by side, at most {lanes}: {peak}"
    assert Upload.objects.filter(completed_at__isnull=False).count() == 4

    again = page.evaluate(FORGET_UPLOAD)
    page.evaluate("import('/app/js/sync.js').then((m) => m.syncOnce())")
    assert Upload.objects.filter(photo_id=again, completed_at__isnull=False).count() == 2
    colis = list(Colis.objects.all())
    assert len(colis) == 4 and {c.description for c in colis} == {f"Colis {n}" for n in range(4)}
    assert all(c.photo_status == "ready" and c.image for c in colis)
    assert len({c.photo_id for c in colis}) == 4
