"""A supervisor imports a tablet's exported outbox: its items as the agent's, once only."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as WebClient

from server.cargo.models import Colis, Lot
from sync.models import ColisTask, Upload
from tests.conftest import make_user
from tests.test_images import jpeg_bytes, quadrants
from tests.web_helpers import web
from tests.workers import start_worker

pytestmark = [pytest.mark.django_db(transaction=True)]
URL = "/supervision/import/"
PHOTO = jpeg_bytes(quadrants(800, 600))
T0 = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def entry(op: str, data: dict, n: int, *, state: str = "queued", task=None, errors=None,
          **extra) -> dict:
    """An outbox item as pwa/js/outbox.js keeps it and exportAll writes it."""
    at = (T0 + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
    return {"op_id": str(uuid.uuid4()), "op": op, "data": data, "state": state, "task": task,
            "errors": errors or {}, "attempts": 0, "created_at": at, "updated_at": at,
            "done_at": None, "photo_id": None, "labels": {"client": "Diallo Aminata"}, **extra}


def with_photo(item: dict, data: bytes = PHOTO) -> tuple[dict, dict]:
    """Give `item` a photo as addColis does; the photo's export row (exportAll)."""
    photo_id = str(uuid.uuid4())
    item.update(photo_id=photo_id, photo_bytes=len(data), data={**item["data"], "photo_id": photo_id})
    return item, {"photo_id": photo_id, "op_id": item["op_id"], "type": "image/jpeg",
                  "size": len(data), "uploaded": False,
                  "data_base64": base64.b64encode(data).decode()}


def export(items: list, photos: list = (), user: str = "alice", **top) -> dict:
    return {"format": "colis-sync-outbox", "version": 1,
            "exported_at": "2026-11-26T05:08:07.395Z", "device": "Tablette Guangzhou 1",
            "user": user, "items": items, "photos": list(photos), **top}


def colis(client_row, lot_op_id: str, poids: str = "12.5") -> dict:
    return {"client": client_row.pk, "lot_op_id": lot_op_id, "type_transport": "cargo",
            "poids": poids, "longueur": "40", "largeur": "30", "hauteur": "20",
            "mode_paiement": "non_paye", "description": "Pièces détachées"}


def offline_outbox(client_row) -> tuple[dict, dict]:
    """A lot opened offline, two colis in it (one with a photo), one invalid, one done."""
    lot = entry("open_lot", {"type_lot": "cargo"}, 0)
    first, photo = with_photo(entry("create", colis(client_row, lot["op_id"]), 1))
    second = entry("create", colis(client_row, lot["op_id"], "3.5"), 2)
    bad = entry("create", colis(client_row, lot["op_id"], "-4"), 3)
    done = entry("create", colis(client_row, lot["op_id"]), 4, state="completed")
    items = {"lot": lot, "first": first, "second": second, "bad": bad, "done": done}
    return items, export(list(items.values()), [photo])


def upload(user, body, name: str = "colis-outbox-20261126T050807.json", client=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    client = client or web(user)
    return client.post(URL, {"file": SimpleUploadedFile(name, raw, "application/json")})


def run_jobs(media) -> None:
    """A real worker materialises the imported tasks and their photos, then stops."""
    proc = start_worker(burst=True, MEDIA_ROOT=str(media))
    assert proc.wait(120) == 0


def test_it_imports_an_offline_outbox_as_the_agent_who_exported_it(
        alice, charlie, client_row, tariffs, redis_clean, media):
    items, body = offline_outbox(client_row)
    response = upload(charlie, body)
    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary.accepted, summary.duplicate, summary.done) == (3, 0, 1)
    assert summary.conflict == [] and summary.photos_taken == 1
    ((op_id, errors),) = summary.invalid
    assert op_id == items["bad"]["op_id"] and list(errors) == ["poids"]
    page = response.content.decode()
    assert items["bad"]["op_id"] in page and 'data-count="accepted"><b>3</b>' in page

    run_jobs(media)
    lot = Lot.objects.get()
    assert str(lot.op_id) == items["lot"]["op_id"] and lot.agent_createur == alice
    made = Colis.objects.order_by("poids")
    assert [c.poids for c in made] == [Decimal("3.5"), Decimal("12.5")]
    assert {c.created_by for c in made} == {alice} and {c.lot for c in made} == {lot}
    tasks = ColisTask.objects.all()
    assert {t.initiated_by for t in tasks} == {alice} and {t.status for t in tasks} == {"completed"}
    assert {str(t.op_id) for t in tasks} == {items["first"]["op_id"], items["second"]["op_id"]}
    with_image = made.get(photo_id=items["first"]["photo_id"])
    assert with_image.photo_status == Colis.Photo.READY and with_image.image.name
    assert Upload.objects.get().owner == alice


def test_it_creates_nothing_twice(alice, alice_api, charlie, client_row, tariffs, redis_clean,
                                  media):
    items, body = offline_outbox(client_row)
    # The tablet got its lot and first colis through before it broke: they are duplicates.
    sent = [{f: items[name][f] for f in ("op_id", "op", "data")} for name in ("lot", "first")]
    assert alice_api.post("/api/v1/sync/", {"items": sent}, format="json").status_code == 200
    upload(charlie, body)
    run_jobs(media)
    counts = (Lot.objects.count(), Colis.objects.count(), ColisTask.objects.count())
    assert counts == (1, 2, 2)

    again = upload(charlie, body).context["summary"]
    assert (again.accepted, again.duplicate, len(again.invalid), len(again.conflict)) == (0, 3, 1, 0)
    assert (again.photos_taken, again.photos_present) == (0, 1)
    run_jobs(media)
    assert (Lot.objects.count(), Colis.objects.count(), ColisTask.objects.count()) == counts
    assert Upload.objects.count() == 1


def test_it_sends_lots_first_in_batches_of_the_sync_size(alice, charlie, client_row, tariffs,
                                                        settings, inline_jobs):
    settings.SYNC_MAX_BATCH = 2
    lot = entry("open_lot", {"type_lot": "cargo"}, 9)  # last in the file
    rows = [entry("create", colis(client_row, lot["op_id"], f"{n}.5"), n) for n in range(1, 6)]
    summary = upload(charlie, export([*rows, lot])).context["summary"]
    assert (summary.accepted, summary.invalid) == (6, [])
    assert Colis.objects.filter(lot__op_id=lot["op_id"], created_by=alice).count() == 5


def test_it_sends_an_edit_once_its_colis_is_known(alice, charlie, client_row, tariffs,
                                                  inline_jobs):
    lot = entry("open_lot", {"type_lot": "cargo"}, 0)
    create = entry("create", colis(client_row, lot["op_id"]), 1)
    edit = entry("update", {"poids": "20"}, 2, depends_on=create["op_id"])
    first = upload(charlie, export([lot, create, edit])).context["summary"]
    assert (first.accepted, first.waiting) == (2, [edit["op_id"]])
    made = Colis.objects.get()
    # The tablet heard of the colis before it broke: the file now says which one.
    create.update(state="completed", task={"colis": {"id": made.pk, "version": made.version}})
    second = upload(charlie, export([lot, create, edit])).context["summary"]
    assert (second.accepted, second.duplicate, second.done, second.waiting) == (1, 1, 1, [])
    made.refresh_from_db()
    assert made.poids == Decimal("20") and made.version == 2


@pytest.mark.parametrize(("raw", "message"), [
    (b"{not json", "n'est pas du JSON lisible"),
    (b"\xff\xfe\x00garbage", "n'est pas du JSON lisible"),
    (b"[" * 100_000, "n'est pas du JSON lisible"),
    (json.dumps({"format": "something-else", "version": 1}).encode(), "n'est pas une file"),
    (json.dumps(export([]) | {"version": 2}).encode(), "Version de fichier inconnue (2)"),
    (json.dumps(export([]) | {"items": {}}).encode(), "n'est pas une file"),
    (json.dumps(export([], user="nobody")).encode(), "« nobody » n'existe pas"),
    (json.dumps(export([], user=None)).encode(), "ne nomme pas l'agent"),
    (json.dumps(export([], user="charlie")).encode(), "« charlie » n'est pas un agent"),
    (json.dumps(export([], user="al\x00ice")).encode(), "n'existe pas"),
])
def test_it_refuses_a_bad_file_clearly(alice, charlie, raw, message):
    response = upload(charlie, raw)
    assert response.status_code == 400
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert ColisTask.objects.count() == 0


def test_it_refuses_a_file_over_the_limit_and_a_missing_file(alice, charlie, settings):
    settings.IMPORT_MAX_BYTES = 1000
    response = upload(charlie, export([entry("open_lot", {"type_lot": "cargo"}, n)
                                       for n in range(20)]))
    assert response.status_code == 400 and "Fichier trop grand" in response.content.decode()
    missing = web(charlie).post(URL, {})
    assert missing.status_code == 400 and "Choisissez le fichier" in missing.content.decode()
    assert Lot.objects.count() == 0


def test_it_answers_in_the_viewers_language(alice, charlie):
    client = web(charlie)
    client.cookies["django_language"] = "zh-hans"
    response = upload(charlie, json.dumps(export([], user="nobody")).encode(), client=client)
    assert response.status_code == 400 and "nobody" in response.content.decode()
    assert "n&#x27;existe pas" not in response.content.decode()


def test_it_leaves_a_photo_over_the_upload_limit(alice, charlie, client_row, tariffs, settings,
                                                 inline_jobs):
    settings.TUS_MAX_SIZE = len(PHOTO) - 1
    _, body = offline_outbox(client_row)
    summary = upload(charlie, body).context["summary"]
    assert summary.photos_taken == 0
    assert [code for _, code in summary.photos_left] == ["upload_too_big"]
    assert Upload.objects.count() == 0 and Colis.objects.count() == 2


def test_it_keeps_agents_out(alice, charlie):
    assert web(alice).get(URL).status_code == 403
    assert upload(alice, export([])).status_code == 403
    anonymous = WebClient().get(URL)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_it_needs_the_csrf_token(charlie):
    client = WebClient(enforce_csrf_checks=True)
    client.force_login(charlie)
    assert upload(charlie, export([]), client=client).status_code == 403
    page = client.get(URL).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page and 'type="file"' in page


def test_it_is_linked_from_the_supervision_page(charlie):
    assert f'href="{URL}"' in web(charlie).get("/supervision/").content.decode()


def test_it_lets_an_admin_import_too(alice, client_row, tariffs, inline_jobs):
    admin = make_user("dora", "admin")
    _, body = offline_outbox(client_row)
    assert upload(admin, body).context["summary"].accepted == 3
    assert set(Colis.objects.values_list("created_by__username", flat=True)) == {"alice"}


def test_it_sends_nothing_the_agent_cancelled(alice, charlie, client_row, tariffs, inline_jobs):
    lot = entry("open_lot", {"type_lot": "cargo"}, 0)
    kept = entry("create", colis(client_row, lot["op_id"]), 1)
    cancelling = entry("create", colis(client_row, lot["op_id"], "2"), 2, state="cancelling")
    dismissed = entry("create", colis(client_row, lot["op_id"], "3"), 3, state="cancelled",
                      dismissed=True)
    summary = upload(charlie, export([lot, kept, cancelling, dismissed])).context["summary"]
    assert (summary.accepted, summary.done) == (2, 2)
    assert list(Colis.objects.values_list("poids", flat=True)) == [Decimal("12.5")]


def test_it_leaves_the_photo_of_a_refused_item(alice, charlie, client_row, tariffs,
                                              inline_jobs):
    lot = entry("open_lot", {"type_lot": "cargo"}, 0)
    bad, photo = with_photo(entry("create", colis(client_row, lot["op_id"], "-1"), 1))
    summary = upload(charlie, export([lot, bad], [photo])).context["summary"]
    assert summary.photos_taken == 0
    assert summary.photos_left == [(photo["photo_id"], "photo_no_item")]
    assert Upload.objects.count() == 0


def test_it_refuses_the_file_of_an_agent_who_left(alice, charlie, client_row):
    alice.is_active = False
    alice.save()
    _, body = offline_outbox(client_row)
    response = upload(charlie, body)
    assert response.status_code == 400
    assert "« alice » n&#x27;est pas un agent actif" in response.content.decode()
    assert Lot.objects.count() == 0


def test_it_keeps_a_supervisor_from_importing_as_an_admin(alice, charlie, client_row, tariffs,
                                                          inline_jobs):
    make_user("dora", "admin")
    _, body = offline_outbox(client_row)
    response = upload(charlie, body | {"user": "dora"})
    assert response.status_code == 400
    assert "« dora »" in response.content.decode()
    assert ColisTask.objects.count() == 0 and Lot.objects.count() == 0


def test_it_lets_an_admin_import_an_admins_file(alice, client_row, tariffs, inline_jobs):
    dora = make_user("dora", "admin")
    _, body = offline_outbox(client_row)
    assert upload(dora, body | {"user": "dora"}).context["summary"].accepted == 3
    assert set(Colis.objects.values_list("created_by__username", flat=True)) == {"dora"}


@pytest.mark.parametrize("item", [
    None, 7, "text", [1, 2],
    {"op_id": "\ud800", "op": "create", "data": {}},
    {"op_id": "a\x00b", "op": "create", "data": {}},
    {"op_id": str(uuid.UUID(int=5)), "op": "create", "data": {"description": "x\ud800y"}},
    {"op_id": str(uuid.UUID(int=6)), "op": "update", "data": None, "depends_on": "\udfff"},
    {"op_id": str(uuid.UUID(int=7)), "op": "create", "data": {"description": "x\x00y"},
     "state": ["queued"], "created_at": "\ud800"},
])
def test_it_reports_a_bad_item_as_invalid_and_imports_the_rest(alice, charlie, client_row,
                                                               tariffs, inline_jobs, item):
    lot = entry("open_lot", {"type_lot": "cargo"}, 0)
    good = entry("create", colis(client_row, lot["op_id"]), 1)
    body = export([lot, item, good], [{"photo_id": "\ud800", "data_base64": "x"}],
                  device="Tab\ud800\x00")
    response = upload(charlie, json.dumps(body).encode())
    assert response.status_code == 200
    page = response.content.decode()
    summary = response.context["summary"]
    assert summary.accepted == 2 and len(summary.invalid) == 1
    assert "\ud800" not in page and "\x00" not in page
    assert Colis.objects.count() == 1
