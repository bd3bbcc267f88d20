"""The admin writes through the domain functions: a colis edit reprices it, bumps its version,
refuses a stale form and reaches the tablet's changes feed; lots close by the one close_lot."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from server.cargo import services
from server.cargo.models import Colis, Lot
from sync.jobs import materialise
from sync.models import ColisTask, Status
from tests.conftest import item
from tests.web_helpers import web


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", password="x", role="admin")


@pytest.fixture
def made(alice_api, colis_data, tariffs) -> ColisTask:
    """A colis made by alice's tablet (12.5 kg), its create task completed by the job."""
    answer = alice_api.post("/api/v1/sync/", {"items": [item(**colis_data)]}, format="json")
    task_id = answer.json()["items"][0]["task"]["task_id"]
    materialise(task_id)
    task = ColisTask.objects.select_related("colis").get(task_id=task_id)
    assert task.status == Status.COMPLETED
    return task


def change_form(colis: Colis, **changes) -> dict:
    """The admin change form as a browser posts it, loaded at the colis' current version."""
    return {"client": colis.client_id, "poids": str(colis.poids), "longueur": str(colis.longueur),
            "largeur": str(colis.largeur), "hauteur": str(colis.hauteur),
            "mode_paiement": colis.mode_paiement, "description": colis.description,
            "base_version": colis.version, **changes}


def url(colis: Colis) -> str:
    return f"/admin/cargo/colis/{colis.pk}/change/"


def feed(api, since: int = 0) -> dict:
    return api.get(f"/api/v1/sync/changes?since={since}").json()


def test_it_reprices_and_bumps_the_version_on_an_admin_edit(root, made):
    colis = made.colis
    response = web(root).post(url(colis), change_form(colis, poids="25"))
    assert response.status_code == 302
    edited = Colis.objects.get(pk=colis.pk)
    assert edited.poids == Decimal("25") and edited.version == colis.version + 1
    # 25 kg at 8 500 the kg (the cargo tariff it was priced with), was 12.5 kg
    assert edited.prix_calcule == Decimal("212500") != colis.prix_calcule
    assert edited.tariff_id == colis.tariff_id


def test_it_tells_the_tablet_that_made_the_colis(root, made, alice_api):
    cursor = int(feed(alice_api)["cursor"])
    web(root).post(url(made.colis), change_form(made.colis, poids="25"))
    items = feed(alice_api, cursor)["items"]
    assert [i["op_id"] for i in items] == [str(made.op_id)]
    assert items[0]["status"] == "completed"
    assert items[0]["colis"]["version"] == 2 and items[0]["colis"]["prix_calcule"] == "212500.00"


def test_it_refuses_a_stale_admin_form_and_keeps_the_tablets_edit(root, made, alice_api):
    colis = made.colis
    stale = change_form(colis, poids="25")  # the admin opened the form at version 1
    services.update_colis(colis.pk, 1, {"poids": "13"}, made.initiated_by)  # a tablet's edit
    response = web(root).post(url(colis), stale)
    assert response.status_code == 200
    assert "modifié ailleurs" in response.content.decode()
    kept = Colis.objects.get(pk=colis.pk)
    assert kept.poids == Decimal("13") and kept.version == 2


def test_it_makes_a_later_stale_tablet_edit_a_conflict(root, made, alice_api):
    web(root).post(url(made.colis), change_form(made.colis, poids="25"))
    answer = alice_api.post("/api/v1/sync/", {"items": [item(
        op="update", colis=made.colis_id, base_version=1, poids="13")]}, format="json").json()
    task = ColisTask.objects.get(task_id=answer["items"][0]["task"]["task_id"])
    materialise(str(task.task_id))
    task.refresh_from_db()
    assert task.status == Status.FAILED_FINAL and task.error_code == "version_conflict"
    assert Colis.objects.get(pk=made.colis_id).poids == Decimal("25")


def test_it_changes_nothing_when_nothing_was_edited(root, made):
    response = web(root).post(url(made.colis), change_form(made.colis))
    assert response.status_code == 302
    assert Colis.objects.get(pk=made.colis_id).version == 1


def test_it_shows_the_domains_refusal_on_its_field(root, made):
    response = web(root).post(url(made.colis), change_form(made.colis, poids="5000"))
    assert response.status_code == 200
    assert "Doit être au plus 2000." in response.content.decode()
    assert Colis.objects.get(pk=made.colis_id).poids == Decimal("12.5")


def test_it_shows_computed_fields_read_only(root, made):
    page = web(root).get(url(made.colis)).content.decode()
    for name in ("numero_suivi", "prix_calcule", "devise", "tariff", "version", "photo_status",
                 "photo_id", "photo_error", "image", "thumbnail", "created_by", "lot",
                 "type_transport"):
        assert f'name="{name}"' not in page, name
    assert 'name="poids"' in page and 'name="base_version"' in page
    assert made.colis.numero_suivi in page


def test_it_creates_a_colis_through_create_colis(root, colis_data, tariffs):
    response = web(root).post("/admin/cargo/colis/add/", colis_data)
    assert response.status_code == 302
    colis = Colis.objects.get()
    assert colis.numero_suivi and colis.prix_calcule == Decimal("106250")
    assert colis.created_by == root and colis.type_transport == "cargo"


def test_it_refuses_a_colis_in_a_closed_lot_from_the_admin(root, colis_data, cargo_lot, alice):
    services.close_lot(cargo_lot, alice)
    response = web(root).post("/admin/cargo/colis/add/", colis_data)
    assert response.status_code == 200
    assert "Ce lot est fermé" in response.content.decode()
    assert not Colis.objects.exists()


def test_it_closes_lots_from_the_admin_only_without_active_tasks(root, alice, alice_api,
                                                                 colis_data, cargo_lot):
    idle = services.open_lot(alice, "cargo")
    alice_api.post("/api/v1/sync/", {"items": [item(**colis_data)]}, format="json")  # pending
    response = web(root).post("/admin/cargo/lot/", {
        "action": "close_lots", "_selected_action": [cargo_lot.pk, idle.pk]}, follow=True)
    page = response.content.decode()
    assert Lot.objects.get(pk=idle.pk).statut == Lot.Statut.FERME
    assert Lot.objects.get(pk=cargo_lot.pk).statut == Lot.Statut.OUVERT
    assert f"{cargo_lot.numero_lot} (1 tâche(s) en cours ou en attente)" in page


def test_it_never_changes_a_lots_number_or_state_in_the_admin(root, cargo_lot):
    response = web(root).post(f"/admin/cargo/lot/{cargo_lot.pk}/change/", {
        "numero_lot": "CARGO-X", "type_lot": "bateau", "statut": "expedie"})
    assert response.status_code == 302
    lot = Lot.objects.get(pk=cargo_lot.pk)
    assert (lot.numero_lot, lot.type_lot, lot.statut) == (cargo_lot.numero_lot, "cargo", "ouvert")


def test_it_opens_a_lot_from_the_admin_with_its_number(root):
    assert web(root).post("/admin/cargo/lot/add/", {"type_lot": "express"}).status_code == 302
    lot = Lot.objects.get()
    assert lot.numero_lot.startswith("EXPRESS-") and lot.agent_createur == root


def test_it_never_edits_a_counter_in_the_admin(root):
    assert web(root).get("/admin/cargo/sequence/add/").status_code == 403


def test_it_turns_a_refusal_at_save_time_into_an_admin_error(root, settings, redis_clean):
    settings.OPEN_LOT_RATE = "1/h"  # the second lot within the hour is refused by open_lot
    assert web(root).post("/admin/cargo/lot/add/", {"type_lot": "cargo"}).status_code == 302
    response = web(root).post("/admin/cargo/lot/add/", {"type_lot": "cargo"}, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Lot.objects.count() == 1
