"""The /app/ routes serve the PWA shell from pwa/ without collectstatic."""

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


def test_it_serves_the_js_catalog_in_the_asked_language(get):
    response = get("/app/jsi18n/?lang=en")
    assert response.status_code == 200
    assert b"django.gettext" in response.content or b"gettext" in response.content
