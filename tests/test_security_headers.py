"""Headers and sessions: a CSP with no inline script anywhere, HSTS, SSL, `check --deploy`."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from server.cargo import services
from tests.web_helpers import web

ROOT = Path(__file__).resolve().parent.parent
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
# What the README's "Security" section lists for production.
PRODUCTION = {
    "DEBUG": "0", "ALLOWED_HOSTS": "colis.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://colis.example.com", "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1", "PROXY_SSL_HEADER": "1", "TRUSTED_PROXY_COUNT": "1",
}


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split(";") if d.strip()}


def pages(alice, charlie, colis_data) -> dict[str, object]:
    """Every kind of page with the client that may see it."""
    colis = services.create_colis(alice, colis_data)
    return {"/login/": web(), "/admin/login/": web(), "/app/": web(), "/taches/": web(alice),
            "/lots/": web(alice), f"/lots/{colis.lot_id}/": web(alice),
            f"/colis/{colis.pk}/etiquette/": web(alice),
            f"/lots/{colis.lot_id}/etiquettes/": web(alice), "/supervision/": web(charlie),
            "/supervision/recherche/?q=x": web(charlie)}


def test_it_sends_a_strict_policy_on_every_page(alice, charlie, colis_data):
    for path, client in pages(alice, charlie, colis_data).items():
        response = client.get(path)
        assert response.status_code == 200, path
        rules = policy(response)
        assert rules["script-src"] == ["'self'"], path
        assert rules["style-src"] == ["'self'"], path
        assert rules["default-src"] == ["'self'"] and rules["object-src"] == ["'none'"]
        assert rules["frame-ancestors"] == ["'none'"]


def test_it_has_no_inline_script_or_handler_in_any_page(alice, charlie, colis_data):
    for path, client in pages(alice, charlie, colis_data).items():
        html = b"".join(client.get(path)).decode() if path == "/app/" else \
            client.get(path).content.decode()
        assert not INLINE_SCRIPT.search(html), path
        assert not INLINE_HANDLER.search(html), path


def test_it_has_no_inline_script_or_handler_in_the_templates():
    files = [*ROOT.glob("server/**/templates/**/*.html"), ROOT / "pwa/index.html"]
    assert len(files) > 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not INLINE_SCRIPT.search(text), path
        assert not INLINE_HANDLER.search(text), path


def test_it_sends_the_policy_with_the_api_and_the_service_worker(alice_api):
    assert "script-src 'self'" in alice_api.get("/api/v1/lots/")["Content-Security-Policy"]
    assert "Content-Security-Policy" in web().get("/app/sw.js")


def test_it_redirects_to_https_and_sends_hsts_when_told(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    response = web().get("/login/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/login/"
    secure = web().get("/login/", secure=True)
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")


def test_it_keeps_page_sessions_for_twelve_hours(alice):
    response = web().post("/login/", {"username": "alice", "password": "password"})
    assert response.cookies["sessionid"]["max-age"] == 12 * 3600


def settings_value(name: str, **env: str) -> str:
    """The value of a setting as a fresh process sees it under `env`."""
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "SECRET_KEY"}
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            env={**clean, "DJANGO_SETTINGS_MODULE": "server.settings",
                                 "SECRET_KEY": "x", **env}, check=True)
    return result.stdout.strip().splitlines()[-1]


def test_it_trusts_x_forwarded_proto_only_when_configured():
    assert settings_value("SECURE_PROXY_SSL_HEADER", DEBUG="0") == "None"
    assert settings_value("SECURE_PROXY_SSL_HEADER", DEBUG="0", PROXY_SSL_HEADER="1") == \
        "('HTTP_X_FORWARDED_PROTO', 'https')"


def deploy_env() -> dict:
    """This process' environment without what the tests set (the browser tests' conftest sets
    DJANGO_ALLOW_ASYNC_UNSAFE, which `check --deploy` rightly refuses)."""
    unset = ("DJANGO_SETTINGS_MODULE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    return {k: v for k, v in os.environ.items() if k not in unset}


def test_it_passes_check_deploy_with_the_production_settings(tmp_path):
    env = deploy_env()
    env.update(PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50), VAR_DIR=str(tmp_path),
               DJANGO_SETTINGS_MODULE="server.settings")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy",
                             "--fail-level", "WARNING"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.parametrize("missing", ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"])
def test_it_fails_check_deploy_without_a_production_setting(tmp_path, missing):
    env = deploy_env()
    env.update(PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50), VAR_DIR=str(tmp_path),
               DJANGO_SETTINGS_MODULE="server.settings")
    del env[missing]
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy",
                             "--fail-level", "WARNING"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
