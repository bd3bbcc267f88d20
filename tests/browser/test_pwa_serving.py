"""The /app/ routes serve the PWA shell from pwa/ without collectstatic."""

import json

import pytest


@pytest.fixture
def get(client):
    return client.get


def test_it_serves_the_shell(get):
    response = get("/app/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"/app/js/app.js" in b"".join(response.streaming_content)


def test_it_serves_the_service_worker_with_its_version(get):
    response = get("/app/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/app/"
    assert response["Cache-Control"] == "no-cache"
    assert b"__SHELL_VERSION__" not in response.content


def test_it_serves_the_manifest(get):
    response = get("/app/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"


def test_it_serves_assets_with_their_types(get):
    assert get("/app/js/pricing.js")["Content-Type"].startswith("text/javascript")
    assert get("/app/icons/icon-192.png")["Content-Type"] == "image/png"


@pytest.mark.parametrize("path", ["/app/../server/settings.py", "/app/js/../../server/settings.py",
                                  "/app/index.html", "/app/sw.js/x", "/app/js/.hidden",
                                  "/app/js/%2e%2e/%2e%2e/manage.py", "/app/js/nope.js"])
def test_it_serves_nothing_outside_the_asset_folders(get, path):
    assert get(path).status_code == 404


@pytest.mark.parametrize("lang, text", [("en", "Sync now"), ("zh-hans", "立即同步")])
def test_it_serves_the_js_catalog_in_the_asked_language(get, lang, text):
    response = get(f"/app/jsi18n/?lang={lang}")
    assert response.status_code == 200
    assert json.dumps(text) in response.content.decode()  # the catalog escapes non-ASCII


def test_it_lists_every_shell_file_for_the_precache(get):
    source = get("/app/sw.js").content.decode()
    for url in ["/app/", "/app/js/app.js", "/app/js/views/form.js", "/app/css/app.css",
                "/app/jsi18n/?lang=zh-hans"]:
        assert f'"{url}"' in source
