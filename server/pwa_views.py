"""Serve the agents' PWA under /app/ straight from pwa/ (no collectstatic needed).

The service worker must live at /app/sw.js to control /app/; it gets the shell
version (a hash of every file under pwa/) written in, so any change to the
shell installs a new worker with a new precache and the old cache is dropped.
"""

import hashlib
import json
import mimetypes
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils import translation
from django.utils._os import safe_join
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog

PWA_DIR = Path(settings.BASE_DIR) / "pwa"
ASSET_DIRS = ("js", "css", "icons", "vendor")  # vendor: third-party ES modules, as npm built them
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
NO_CACHE = "no-cache"


def shell_version() -> str:
    """A short hash of every file of the shell; recomputed on each call in DEBUG."""
    if settings.DEBUG:
        return _hash_tree()
    return _cached_hash_tree()


def _hash_tree() -> str:
    digest = hashlib.sha256()
    for path in sorted(PWA_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(PWA_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def _cached_hash_tree() -> str:
    return _hash_tree()


def _file(path: Path, content_type: str) -> FileResponse:
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = NO_CACHE
    return response


@require_GET
def shell(request):
    return _file(PWA_DIR / "index.html", "text/html; charset=utf-8")


@require_GET
def manifest(request):
    return _file(PWA_DIR / "manifest.webmanifest", "application/manifest+json")


def shell_files() -> list[str]:
    """Every URL the service worker precaches: the page, its assets, the catalogs."""
    assets = sorted(
        "/app/" + str(path.relative_to(PWA_DIR))
        for top in ASSET_DIRS
        for path in (PWA_DIR / top).rglob("*")
        if path.is_file() and not path.name.startswith(".")
    )
    catalogs = [f"/app/jsi18n/?lang={code}" for code, _name in settings.LANGUAGES]
    return ["/app/", "/app/manifest.webmanifest", *assets, *catalogs]


@require_GET
def service_worker(request):
    source = (PWA_DIR / "sw.js").read_text(encoding="utf-8")
    source = source.replace("__SHELL_VERSION__", shell_version())
    source = source.replace('"__SHELL_FILES__"', json.dumps(shell_files()))
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/app/"
    response["Cache-Control"] = NO_CACHE
    return response


@require_GET
def asset(request, path: str):
    """A file under pwa/js, pwa/css, pwa/icons or pwa/vendor; nothing else, no escaping pwa/."""
    top = path.split("/", 1)[0]
    if top not in ASSET_DIRS or any(part.startswith(".") for part in path.split("/")):
        raise Http404
    try:
        full = Path(safe_join(PWA_DIR, path))
    except ValueError as exc:
        raise Http404 from exc
    if not full.is_file():
        raise Http404
    content_type = CONTENT_TYPES.get(full.suffix) or mimetypes.guess_type(full.name)[0]
    return _file(full, content_type or "application/octet-stream")


def js_catalog(request):
    """Django's JavaScriptCatalog, in the language named by ?lang= when it is one we speak."""
    lang = request.GET.get("lang", "")
    if lang not in dict(settings.LANGUAGES):
        lang = translation.get_language()
    with translation.override(lang):
        response = JavaScriptCatalog.as_view()(request)
    response["Cache-Control"] = NO_CACHE
    return response
