"""Every URL × every kind of visitor, from the URL resolver itself: a new URL cannot be
left out. A URL the table below does not know fails the test with its name; every answer
is the table's, and none is a 5xx.

The URLs are read from `get_resolver().url_patterns`, recursively (named and unnamed, path
and regex), and their parameters filled with the ids of objects made here (alice's task,
lot, colis with its photo, device, upload; the admin's objects of each model). Each visitor
sends GET to every URL, then POST to every URL: a URL whose view takes POST says so in the
table (`post`) and gets the table's answer; a URL that does not take POST must still refuse
whom GET refuses, and answer the others without a 5xx.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import django_rq
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.test import Client as WebClient
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from django.utils import timezone
from rq import Queue, Worker

from server.accounts.models import Device, User
from server.cargo import services
from server.cargo.models import Colis
from sync import uploads
from sync.models import ColisTask, Upload
from sync.photos import attach_photo
from tests.security_helpers import counters  # noqa: F401 - fixture

from .test_images import jpeg_bytes, quadrants

VISITORS = ["anonymous", "agent_a", "agent_b", "supervisor", "admin", "revoked", "expired"]
TOKENS = {"revoked", "expired"}  # only alice's dead token, no session
LOGGED_IN = {"agent_a", "agent_b", "supervisor", "admin"}

# What a visitor refused gets: the pages' login, the admin's login, or a status.
LOGIN, ADMIN_LOGIN = "login", "admin-login"


def rule(*, anonymous, agent_a="ok", agent_b="ok", supervisor="ok", admin="ok", revoked=None,
         expired=None) -> dict:
    """Who gets what: "ok" (the view answers), LOGIN, ADMIN_LOGIN or a status; a pair is
    (GET's, POST's). A dead token counts as no login at all unless said otherwise."""
    dead = anonymous if revoked is None else revoked
    return {"anonymous": anonymous, "agent_a": agent_a, "agent_b": agent_b,
            "supervisor": supervisor, "admin": admin, "revoked": dead,
            "expired": dead if expired is None else expired}


def everyone(answer) -> dict:
    return dict.fromkeys(VISITORS, answer)


PUBLIC = rule(anonymous="ok")
PUBLIC_API = rule(anonymous="ok", revoked=401)  # DRF: a bad token is refused even there
PAGE = rule(anonymous=LOGIN)  # any login: lots, their colis, manifests, labels are shared
OWN_TASK_PAGE = rule(anonymous=LOGIN, agent_b=404)  # tasks: each agent's own; supervisors all
OWN_TASK_ACTION_PAGE = rule(anonymous=LOGIN, agent_b=(405, 404))  # POST only
REGISTRAR_PAGE = rule(anonymous=LOGIN, supervisor=403)
SUPERVISOR_PAGE = rule(anonymous=LOGIN, agent_a=403, agent_b=403)
API = rule(anonymous=401)
OWN_TASK_API = rule(anonymous=401, agent_b=404)
OWN_TASK_ACTION_API = rule(anonymous=401, agent_b=(405, 404))
REGISTRAR_API = rule(anonymous=401, supervisor=403)
UPLOAD = rule(anonymous=401, supervisor=403)  # HEAD, PATCH, DELETE by others: tests/test_tus.py
ADMIN_SITE = rule(anonymous=ADMIN_LOGIN, agent_a=ADMIN_LOGIN, agent_b=ADMIN_LOGIN,
                  supervisor=ADMIN_LOGIN)  # staff only
RQ_PAGE = rule(anonymous=ADMIN_LOGIN, agent_a=403, agent_b=403, supervisor=403)
TOKEN_ONLY = rule(anonymous=401, agent_a=401, agent_b=401, supervisor=401, admin=401)


@dataclass(frozen=True)
class Entry:
    who: dict
    get: frozenset = frozenset({200})  # what an allowed visitor's GET may get
    post: bool = False  # the view takes POST: an allowed visitor's POST is not refused


def entry(who: dict, get=(200,), post: bool = False) -> Entry:
    return Entry(who, frozenset(get), post)


# Keys: a pattern's name (with its namespace), or its route when it has none. Namespace
# rules ("admin:*") cover a site whose every view one check guards: the Django admin
# (admin_view: staff only) and the RQ pages (server/urls.py wraps each in queue_admin).
TABLE: dict[str, Entry] = {
    # The Django admin: its login page is open; everything else is for staff.
    "admin:login": entry(PUBLIC, get=(200, 302), post=True),
    "admin:logout": entry(rule(anonymous=302, agent_a=302, agent_b=302, supervisor=302),
                          get=(405,), post=True),  # not staff: sent to /admin/ (its login)
    "admin:*": entry(ADMIN_SITE, get=(200, 302), post=True),
    "admin:autocomplete": entry({**ADMIN_SITE, "admin": (403, 405)}),  # asked without a model
    "admin:view_on_site": entry(ADMIN_SITE, get=(404,)),  # a colis has no page of its own
    "admin:cargo_sequence_add": entry({**ADMIN_SITE, "admin": 403}, post=True),  # read-only
    "admin:cargo_sequence_change": entry({**ADMIN_SITE, "admin": (200, 403)}, post=True),
    "admin:cargo_sequence_delete": entry({**ADMIN_SITE, "admin": 403}, post=True),
    "admin:cargo_numerolease_add": entry({**ADMIN_SITE, "admin": 403}, post=True),  # read-only
    "admin:cargo_numerolease_change": entry({**ADMIN_SITE, "admin": (302, 403)}, post=True),
    "admin:cargo_numerolease_delete": entry({**ADMIN_SITE, "admin": 403}, post=True),
    "admin/(?P<url>.*)$": entry(ADMIN_SITE, get=(404,)),
    "admin/<model>/<path:object_id>/": entry(ADMIN_SITE, get=(302,)),
    # The RQ pages: staff admins only (POST-only actions redirect a GET).
    "django_rq:*": entry(RQ_PAGE, get=(200, 302), post=True),
    "django_rq:scheduler_jobs": entry(RQ_PAGE, get=(404,)),  # rq-scheduler is not installed
    "django_rq:stop_job": entry(RQ_PAGE, get=(405,), post=True),
    "django_rq:result_detail": entry(RQ_PAGE, get=(404,)),  # the job has no result yet
    "django_rq:cron_scheduler_detail": entry(RQ_PAGE, get=(404,)),  # no cron scheduler runs
    "django_rq:cron_job_detail": entry(RQ_PAGE, get=(404,)),
    # The PWA's files: open (the app asks for a login itself).
    "pwa-shell": entry(PUBLIC), "pwa-sw": entry(PUBLIC), "pwa-manifest": entry(PUBLIC),
    "pwa-jsi18n": entry(PUBLIC), "pwa-asset": entry(PUBLIC),
    # The API.
    "device-login": entry(PUBLIC, get=(405,), post=True),
    "device-logout": entry(TOKEN_ONLY, get=(405,), post=True),  # the tablet's own token
    "client-list": entry(API), "lot-list": entry(API, post=True), "tariff-list": entry(API),
    "sync-batch": entry(REGISTRAR_API, get=(405,), post=True),
    "sync-changes": entry(API),
    "task-list": entry(API), "task-detail": entry(OWN_TASK_API),
    "task-retry": entry(OWN_TASK_ACTION_API, get=(405,), post=True),
    "task-cancel": entry(OWN_TASK_ACTION_API, get=(405,), post=True),
    "device-report": entry(REGISTRAR_API, get=(405,), post=True),
    "device-leases": entry(rule(anonymous=401, agent_a=403, agent_b=403, supervisor=403,
                                admin=403), post=True),  # a tablet's: a session has no device
    "health": entry(PUBLIC),
    # Prometheus: no METRICS_TOKEN set here, so no such page; a Bearer token only (test_metrics).
    "metrics": entry(everyone(404)),
    "tus-create": entry(UPLOAD, get=(405,), post=True),
    "tus-upload": entry(UPLOAD, get=(405,)),
    "schema": entry(PUBLIC_API), "swagger-ui": entry(PUBLIC_API),
    "set_language": entry(PUBLIC, get=(302,), post=True),
    # Private photos: whoever may see the colis (everyone logged in), page or tablet.
    "photo-image": entry(API), "photo-thumb": entry(API),
    # The pages.
    "web:home": entry(PUBLIC, get=(302,)),
    "web:favicon": entry(PUBLIC, get=(200, 204, 301, 302, 404)),
    "web:login": entry(PUBLIC, get=(200, 302), post=True),
    "web:logout": entry(everyone((405, LOGIN))),  # POST logs out, then the login page
    "web:board": entry(PAGE), "web:board-changes": entry(PAGE),
    "web:task": entry(OWN_TASK_PAGE, post=True),
    "web:task-retry": entry(OWN_TASK_ACTION_PAGE, get=(405,), post=True),
    "web:task-cancel": entry(OWN_TASK_ACTION_PAGE, get=(405,), post=True),
    "web:lots": entry(PAGE), "web:lot-open": entry(REGISTRAR_PAGE, get=(405,), post=True),
    "web:lot": entry(PAGE), "web:lot-close": entry(rule(anonymous=LOGIN), post=True),
    "web:lot-manifest": entry(PAGE), "web:lot-manifest-xlsx": entry(PAGE),
    "web:lot-labels": entry(PAGE),
    "web:colis-label": entry(PAGE),
    "web:supervision": entry(SUPERVISOR_PAGE), "web:supervision-live": entry(SUPERVISOR_PAGE),
    "web:bulk-retry": entry(SUPERVISOR_PAGE, get=(405,), post=True),
    "web:device-revoke": entry(SUPERVISOR_PAGE, get=(405,), post=True),
    "web:search": entry(SUPERVISOR_PAGE), "web:import": entry(SUPERVISOR_PAGE, post=True),
    "web:results": entry(SUPERVISOR_PAGE), "web:results-csv": entry(SUPERVISOR_PAGE),
    "web:results-xlsx": entry(SUPERVISOR_PAGE),
    # The user guides and their screenshots: open, as the app's login screen.
    "guides:agents": entry(PUBLIC), "guides:superviseurs": entry(PUBLIC),
    "guides:screenshot": entry(PUBLIC),
}


# The URLs, from the resolver.

@dataclass(frozen=True)
class Url:
    key: str  # the table's key
    name: str  # what a failure is reported as
    route: str
    path: str


CONVERTED = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")
GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?:[^()]|\([^()]*\))*\)\??")


def fill_route(route: str, values: dict) -> str:
    return CONVERTED.sub(lambda m: str(values[m["name"]]), route)


def fill_regex(regex: str, values: dict) -> str:
    path = GROUP.sub(lambda m: str(values[m["name"]]), regex.lstrip("^").rstrip("$"))
    return path.replace("/?", "/").replace("\\", "")


def model_of(resolver: URLResolver):
    for pattern in resolver.url_patterns:
        model_admin = getattr(getattr(pattern, "callback", None), "model_admin", None)
        if model_admin is not None:
            return model_admin.model
    return None


def object_id(model) -> str:
    try:
        first = model._default_manager.order_by("pk").first()
    except Exception:  # noqa: BLE001 - django-rq's admin "model" has no table
        first = None
    return str(first.pk) if first is not None else "1"


def walk(patterns, values: dict, prefix: str = "", route: str = "", namespace: str = "",
         model=None):
    """Every URLPattern under `patterns`: (key, name, route, path)."""
    for pattern in patterns:
        part = str(pattern.pattern)
        fill = fill_regex if isinstance(pattern.pattern, RegexPattern) else fill_route
        if isinstance(pattern, URLResolver):
            inner = model_of(pattern) or model
            here = {**values, "object_id": object_id(inner)} if inner else values
            space = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from walk(pattern.url_patterns, here, prefix + fill(part, here),
                            route + part, space, inner)
            continue
        assert isinstance(pattern, URLPattern)
        full = route + part
        name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
        key = name or full
        if not name and model is not None:  # the admin's redirect to a change page
            key = full.replace(f"{model._meta.app_label}/{model._meta.model_name}", "<model>")
        yield Url(key, name or full, full, "/" + prefix + fill(part, values))


def urls(values: dict) -> list[Url]:
    return list(walk(get_resolver().url_patterns, values))


def entry_for(url: Url) -> Entry | None:
    if url.key in TABLE:
        return TABLE[url.key]
    if url.name == url.route:  # unnamed: its route is its only key
        return None
    return TABLE.get(url.key.split(":")[0] + ":*") if ":" in url.key else None


# The world the URLs are filled from.

@pytest.fixture
def world(redis_clean, alice, bob, charlie, colis_data, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    admin = User.objects.create_superuser("root", password="password", role=User.Role.ADMIN)
    photo_id = uuid.uuid4()
    colis = services.create_colis(alice, colis_data, photo_id=photo_id)
    task = ColisTask.objects.create(op_id=uuid.uuid4(), operation="create", colis_data={},
                                    payload_hash="-", initiated_by=alice, colis=colis,
                                    lot=colis.lot, photo_id=photo_id, status="failed_final")
    now = timezone.now()
    data = jpeg_bytes(quadrants())
    Upload.objects.create(upload_id=uuid.uuid4(), owner=alice, photo_id=photo_id,
                          length=len(data), offset=len(data), completed_at=now,
                          temp_name=uploads.storage().save(str(uuid.uuid4()), ContentFile(data)),
                          expires_at=now + timedelta(days=1))
    assert attach_photo(str(photo_id)) == "ready"
    open_upload = Upload.objects.create(
        upload_id=uuid.uuid4(), owner=alice, photo_id=uuid.uuid4(), length=10,
        temp_name=uploads.storage().save(str(uuid.uuid4()), ContentFile(b"")),
        expires_at=now + timedelta(days=1))
    device, _ = Device.issue(alice, "tablette")
    queue = Queue("colis", connection=django_rq.get_connection("colis"))  # RQ's page 0
    job = queue.enqueue("sync.photos.attach_photo", str(photo_id))  # no worker: it waits
    worker = Worker([queue], connection=queue.connection, name=f"matrix-{uuid.uuid4().hex}")
    worker.register_birth()
    revoked, revoked_token = Device.issue(alice, "révoquée")
    revoked.revoke()
    expired, expired_token = Device.issue(alice, "oubliée")
    Device.objects.filter(pk=expired.pk).update(
        created_at=now - timedelta(days=settings.TOKEN_IDLE_DAYS + 1))
    values = {
        "task_id": task.task_id, "lot_id": colis.lot_id, "colis_id": colis.pk,
        "device_id": device.pk, "upload_id": open_upload.upload_id, "id": alice.pk,
        "content_type_id": ContentType.objects.get_for_model(Colis).pk, "object_id": "1",
        "app_label": "cargo", "url": "nowhere/", "path": "js/app.js", "token": "x",
        "queue_index": 0, "scheduler_index": 0, "connection_index": 0, "job_id": job.id,
        "result_id": "noresult", "key": worker.key, "scheduler_name": "nosched",
        "cron_job_name": "nojob", "name": "web-label.png"}
    return {"users": {"agent_a": alice, "agent_b": bob, "supervisor": charlie, "admin": admin},
            "tokens": {"revoked": revoked_token, "expired": expired_token}, "values": values}


def client_for(visitor: str, world) -> WebClient:
    client = WebClient(raise_request_exception=False, HTTP_TUS_RESUMABLE="1.0.0")
    if visitor in TOKENS:
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {world['tokens'][visitor]}"
    return client


def login(client: WebClient, visitor: str, world) -> None:
    """Log in again before each request: a POST to a logout URL must not end the round."""
    if visitor in LOGGED_IN:
        client.force_login(world["users"][visitor])


def outcome(response) -> str | int:
    if response.status_code == 302:
        location = response.get("Location", "")
        if location.startswith("/login/"):
            return LOGIN
        if location.startswith("/admin/login/"):
            return ADMIN_LOGIN
    return response.status_code


def verdict(expected, method: str, url: Url, entry: Entry, got) -> str | None:
    """What is wrong with `got`, or None."""
    if isinstance(got, int) and got >= 500:
        return f"{method} {url.name} ({url.path}): {got}"
    if expected != "ok":
        return None if got == expected else f"{method} {url.name} ({url.path}): {got}, " \
                                             f"expected {expected}"
    if got in (LOGIN, ADMIN_LOGIN, 401, 403):
        return f"{method} {url.name} ({url.path}): refused ({got}), expected an answer"
    if method == "GET" and got not in entry.get and got != expected:
        return f"GET {url.name} ({url.path}): {got}, expected one of {sorted(entry.get)}"
    return None


def test_it_knows_every_url(world):
    missing = sorted({url.name for url in urls(world["values"]) if entry_for(url) is None})
    assert not missing, f"URLs missing from tests/test_access_matrix.py's TABLE: {missing}"


def test_it_fills_every_url_with_a_path_that_leads_back_to_it(world):
    from django.urls import Resolver404, resolve

    lost = []
    for url in urls(world["values"]):
        try:
            resolve(url.path.split("?")[0])
        except Resolver404:
            lost.append(f"{url.name} -> {url.path}")
    assert not lost


@pytest.mark.parametrize("visitor", VISITORS)
def test_it_answers_every_url_as_the_table_says(visitor, counters, world):  # noqa: F811
    client, wrong = client_for(visitor, world), []
    found = [(url, entry_for(url)) for url in urls(world["values"])]
    for method in ("GET", "POST"):
        for url, known in found:
            if known is None:
                wrong.append(f"{url.name}: not in the table")
                continue
            login(client, visitor, world)
            response = client.generic(method, url.path)
            expected = known.who[visitor]
            if isinstance(expected, tuple):
                expected = expected[method == "POST"]
            if method == "POST" and not known.post and expected in ("ok", 404):
                # No POST here: answered (405, or a page that ignores the method) or, for
                # an object not shown, 404 or 405; never refused at the door, never a 5xx.
                got = outcome(response)
                if got in (LOGIN, ADMIN_LOGIN, 401, 403) or isinstance(got, int) and got >= 500:
                    wrong.append(f"POST {url.name} ({url.path}): {got}")
                continue
            problem = verdict(expected, method, url, known, outcome(response))
            if problem:
                wrong.append(problem)
    assert not wrong, f"{visitor}:\n" + "\n".join(wrong)


def test_it_keeps_the_rq_pages_from_a_staff_supervisor(charlie):
    """django-rq's copy of its pages inside the admin let any staff user in: it is gone."""
    charlie.is_staff = True
    charlie.save()
    client = WebClient()
    client.force_login(charlie)
    assert client.get("/admin/").status_code == 200
    assert client.get("/django-rq/").status_code == 403
    assert client.get("/admin/django_rq/dashboard/").status_code == 404
    assert client.post("/admin/django_rq/dashboard/queues/0/empty/").status_code == 404
