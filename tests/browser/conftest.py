"""Chromium (Debian's) driven by playwright against a live server, for the PWA tests.

The live server materialises inline (COLIS_ASYNC off): the browser tests are
about the tablet, the worker path has its own tests. The app reads short sync
timers from localStorage 'colis.config' so nothing here sleeps for long.
"""

import io
import json
import os
import random
import shutil
import threading
import time
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
FAST_SYNC = {"baseMs": 300, "idleMs": 1500, "maxMs": 1500}
PHOTO_SIZE = (4000, 3000)  # 12 MP, as a tablet camera


def pytest_collection_modifyitems(items):
    # A developer without Chromium gets skips; CI (which installs it) never does.
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _server_settles(request, transactional_db):
    """After each test, and before its database is emptied: close the browser's contexts and
    let the live server finish the requests it still serves. On PostgreSQL the emptying is a
    TRUNCATE, which deadlocks with a request still writing (seen in CI: a sync in flight when
    the test ended)."""
    yield
    if "browser" in request.fixturenames:
        for ctx in request.getfixturevalue("browser").contexts:
            ctx.close()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(
            t.name.endswith("(process_request_thread)") for t in threading.enumerate()):
        time.sleep(0.02)


@pytest.fixture
def server(live_server, settings, tariffs, alice):
    """The live server, inline materialisation, tariffs and a few clients."""
    from django.core.cache import cache

    from server.cargo.models import Client

    settings.COLIS_ASYNC = False
    cache.clear()  # the device-login throttle counts every test's logins from 127.0.0.1
    for i, (nom, prenom, tel, ville) in enumerate([
        ("Diallo", "Aminata", "+221770000001", "Dakar"),
        ("Traoré", "Moussa", "+223760000002", "Bamako"),
        ("Koné", "Awa", "+225070000003", "Abidjan"),
        ("Ouédraogo", "Issa", "+226700000004", "Ouagadougou"),
    ]):
        Client.objects.create(nom=nom, prenom=prenom, telephone=tel, ville_destination=ville,
                              pays_destination="—", email=f"c{i}@example.com")
    return live_server


@pytest.fixture
def context(browser):
    # bypass_csp: playwright's wait_for_function(string) evaluates code, which the pages'
    # Content-Security-Policy forbids; tests/browser/test_csp.py checks the policy itself.
    ctx = browser.new_context(viewport={"width": 1024, "height": 900}, accept_downloads=True,
                              locale="fr-FR", bypass_csp=True)
    config = json.dumps(json.dumps(FAST_SYNC))
    ctx.add_init_script(f"localStorage.setItem('colis.config', {config});")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda m: m.type in ("error", "warning")
            and print(f"[console.{m.type}] {m.text}"))
    page.on("pageerror", lambda e: print(f"[pageerror] {e}"))
    return page


@pytest.fixture(scope="session")
def photo_file(tmp_path_factory) -> Path:
    """A 12 MP JPEG with some texture (a camera photo stand-in)."""
    return make_photo(tmp_path_factory.mktemp("photos") / "colis.jpg", noise=0.15, sigma=40)


@pytest.fixture(scope="session")
def noisy_photo_file(tmp_path_factory) -> Path:
    """A photo so grainy that it stays over two tus chunks once compressed (≈ 850 kB at the
    app's JPEG 0.5): colour noise in every pixel at 1600 × 1200, which the tablet keeps as it
    is (no downscale to smooth it)."""
    from PIL import Image

    grain = Image.merge("RGB", [Image.effect_noise((1600, 1200), 110) for _ in range(3)])
    path = tmp_path_factory.mktemp("photos") / "grainy.jpg"
    grain.save(path, "JPEG", quality=92)
    return path


def make_photo(path: Path, noise: float, sigma: int) -> Path:
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(6)
    image = Image.new("RGB", PHOTO_SIZE, (180, 150, 110))
    draw = ImageDraw.Draw(image)
    for _ in range(400):
        x, y = rng.randrange(PHOTO_SIZE[0]), rng.randrange(PHOTO_SIZE[1])
        r = rng.randrange(20, 300)
        draw.ellipse([x - r, y - r, x + r, y + r],
                     fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    grain = Image.effect_noise(PHOTO_SIZE, sigma).convert("RGB")
    image = Image.blend(image.filter(ImageFilter.GaussianBlur(2)), grain, noise)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    path.write_bytes(out.getvalue())
    return path

