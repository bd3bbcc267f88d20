"""« Mes tâches »: own tasks only, sections, counts, filters, retry with corrections, cancel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from server.cargo import services
from sync.models import ColisTask, Status, TaskEvent
from tests.web_helpers import send, set_status, web


def test_it_never_shows_another_agents_task(alice, bob, colis_data):
    mine = send(alice, colis_data, n=2)
    theirs = send(bob, colis_data, n=3)
    set_status(theirs[1:2], Status.FAILED_FINAL, error_message="Raison de Bob")
    set_status(theirs[2:], Status.COMPLETED, completed_at=timezone.now())
    page = web(alice).get("/taches/").content.decode()
    assert all(str(t.task_id) in page for t in mine)
    assert not any(str(t.task_id) in page for t in theirs)
    assert "Raison de Bob" not in page


def test_it_shows_supervisors_every_task(alice, bob, charlie, colis_data):
    tasks = send(alice, colis_data) + send(bob, colis_data)
    page = web(charlie).get("/taches/").content.decode()
    assert all(str(t.task_id) in page for t in tasks)


def test_it_counts_each_state_and_the_average_time_today(alice, colis_data):
    tasks = send(alice, colis_data, n=6)
    set_status(tasks[1:2], Status.PRICE_CALCULATING)
    set_status(tasks[2:4], Status.FAILED_FINAL)
    now = timezone.now()
    for task, seconds in zip(tasks[4:], (60, 180), strict=True):
        ColisTask.objects.filter(pk=task.pk).update(
            status=Status.COMPLETED, created_at=now - timedelta(seconds=seconds), completed_at=now)
    counts = web(alice).get("/taches/").context["counts"]
    assert counts == {"pending": 1, "running": 1, "failed": 2, "done_24h": 2,
                      "avg_today": "2 min 00 s"}


def test_it_puts_each_task_in_its_section_with_step_and_reason(alice, colis_data):
    tasks = send(alice, colis_data, n=3)
    set_status(tasks[0:1], Status.PRICE_CALCULATING, progress_percentage=60)
    set_status(tasks[1:2], Status.FAILED_FINAL, error_message="Le lot est fermé")
    set_status(tasks[2:3], Status.COMPLETED, completed_at=timezone.now() - timedelta(hours=30))
    response = web(alice).get("/taches/")
    sections = response.context["sections"]
    assert [t.pk for t in sections["active"]] == [tasks[0].pk]
    assert [t.pk for t in sections["failed"]] == [tasks[1].pk]
    assert list(sections["completed"]) == []  # older than 24 h
    html = response.content.decode()
    assert 'value="60"' in html and "Calcul du prix" in html and "Le lot est fermé" in html


def test_it_filters_by_lot_and_status(alice, colis_data):
    other_lot = services.open_lot(alice, "cargo")
    first = send(alice, colis_data, n=2)
    second = send(alice, {**colis_data, "lot": other_lot.pk})
    set_status(first[1:], Status.FAILED_FINAL)
    by_lot = web(alice).get("/taches/", {"lot": other_lot.pk}).context["sections"]
    assert [t.pk for t in by_lot["active"]] == [second[0].pk]
    by_status = web(alice).get("/taches/", {"status": "failed_final"}).context["sections"]
    assert list(by_status["active"]) == [] and [t.pk for t in by_status["failed"]] == [first[1].pk]


def test_it_paginates_each_section(alice, colis_data):
    send(alice, colis_data, n=30)
    client = web(alice)
    first = client.get("/taches/").context["sections"]["active"]
    second = client.get("/taches/", {"p_active": 2}).context["sections"]["active"]
    assert len(first) == 25 and len(second) == 5
    assert "p_active=2" in client.get("/taches/").content.decode()


def test_it_lists_tasks_of_one_instant_once_each_over_the_pages(alice, alice_api, colis_data):
    """A batch's tasks may share created_at: pk breaks the tie, on the board and in the API,
    so that no task shows on two pages and none on neither."""
    tasks = send(alice, colis_data, n=30)
    ColisTask.objects.filter(pk__in=[t.pk for t in tasks]).update(created_at=timezone.now())
    client = web(alice)
    board = [t.pk for n in (1, 2) for t in
             client.get("/taches/", {"p_active": n}).context["sections"]["active"]]
    assert board == sorted(t.pk for t in tasks)[::-1]
    listed, url, pages = [], "/api/v1/tasks/?limit=7", 0
    while url:
        page = alice_api.get(url).json()
        listed += [row["task_id"] for row in page["results"]]
        url, pages = page["next"], pages + 1
    assert pages == 5
    by_pk = {str(t.task_id): t.pk for t in tasks}
    assert [by_pk[task_id] for task_id in listed] == sorted(by_pk.values())[::-1]


@pytest.fixture
def failed(alice, colis_data):
    task = send(alice, colis_data)[0]
    set_status([task], Status.FAILED_FINAL, error_code="invalid", error_message="Données invalides")
    return task


def test_it_retries_a_failed_task_as_it_is(alice, failed):
    response = web(alice).post(f"/taches/{failed.task_id}/relancer/")
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == Status.PENDING
    assert TaskEvent.objects.filter(task=failed, to_status="pending", by=alice).exists()


def test_it_retries_with_corrected_data(alice, failed, colis_data):
    form = {**colis_data, "corrected": "1", "poids": "3.5"}
    response = web(alice).post(f"/taches/{failed.task_id}/relancer/", form)
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == Status.PENDING and failed.colis_data["poids"] == "3.5"


def test_it_suggests_the_agents_clients_not_every_client(alice, failed, client_row):
    from server.cargo.models import Client

    Client.objects.bulk_create([Client(nom=f"Autre{i}", prenom="X", telephone=f"+2250{i:08d}")
                                for i in range(300)])
    response = web(alice).get(f"/taches/{failed.task_id}/")
    form = response.context["form"]
    assert form.client_options == [f"Diallo Aminata · +221770000001 (#{client_row.pk})"]
    assert form["client"].value() == form.client_options[0]
    assert "Autre1" not in response.content.decode()


@pytest.mark.parametrize("typed", ["Diallo Aminata · +221770000001 (#{pk})", "{pk}",
                                   "aminata", "diallo 770000001"])
def test_it_finds_the_client_typed_in_the_retry_form(alice, failed, colis_data, client_row,
                                                     typed):
    form = {**colis_data, "corrected": "1", "client": typed.format(pk=client_row.pk)}
    assert web(alice).post(f"/taches/{failed.task_id}/relancer/", form).status_code == 302
    failed.refresh_from_db()
    assert failed.colis_data["client"] == client_row.pk


@pytest.mark.parametrize(("typed", "error"), [("Sow", "Client introuvable."),
                                              ("+22177", "Plusieurs clients correspondent")])
def test_it_asks_for_one_client_when_the_text_is_not_one(alice, failed, colis_data, client_row,
                                                         typed, error):
    from server.cargo.models import Client

    Client.objects.create(nom="Ndiaye", prenom="Awa", telephone="+221770000002")
    form = {**colis_data, "corrected": "1", "client": typed}
    response = web(alice).post(f"/taches/{failed.task_id}/relancer/", form)
    assert response.status_code == 400
    assert response.context["form"].errors["client"][0].startswith(error)


def test_it_shows_the_domain_errors_per_field(alice, failed, colis_data, cargo_lot):
    form = {**colis_data, "corrected": "1", "poids": "-2", "hauteur": "900"}
    response = web(alice).post(f"/taches/{failed.task_id}/relancer/", form)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["poids"] == ["Doit être strictement positif."]
    assert errors["hauteur"] == ["Doit être au plus 600."]
    failed.refresh_from_db()
    assert failed.status == Status.FAILED_FINAL


def test_it_says_the_chosen_lot_is_closed(alice, failed, colis_data, cargo_lot):
    services.close_lot(cargo_lot, alice)
    response = web(alice).post(f"/taches/{failed.task_id}/relancer/",
                               {**colis_data, "corrected": "1"})
    assert response.status_code == 400
    assert "Ce lot est fermé" in response.context["form"].errors["lot"][0]


def test_it_cancels_a_failed_task(alice, failed):
    web(alice).post(f"/taches/{failed.task_id}/annuler/")
    failed.refresh_from_db()
    assert failed.status == Status.CANCELLED


def test_it_does_not_cancel_a_completed_task(alice, colis_data):
    task = send(alice, colis_data)[0]
    set_status([task], Status.COMPLETED, completed_at=timezone.now())
    response = web(alice).post(f"/taches/{task.task_id}/annuler/", follow=True)
    task.refresh_from_db()
    assert task.status == Status.COMPLETED
    assert "ne peut plus être annulée" in response.content.decode()


def test_it_shows_a_tasks_history(alice, failed):
    page = web(alice).get(f"/taches/{failed.task_id}/").content.decode()
    assert "Reçu de l&#x27;appareil" in page and "Corriger et relancer" in page


@pytest.mark.django_db(transaction=True)
def test_it_lists_completed_colis_with_number_price_and_link(alice, colis_data, tariffs,
                                                              inline_jobs):
    task = send(alice, colis_data)[0]
    assert task.status == Status.COMPLETED
    html = web(alice).get("/taches/").content.decode()
    assert task.colis.numero_suivi in html
    assert "106" in html and "250 XOF" in html.replace("\xa0", " ").replace(",", " ")
    assert f"/lots/{task.lot_id}/#colis-{task.colis_id}" in html


def edit(user, colis, version: int, **changes) -> ColisTask:
    """An update item from `user`'s tablet for `colis` at `version`, its job run."""
    from sync.jobs import materialise
    from tests.conftest import device_client, item

    answer = device_client(user).post("/api/v1/sync/", {"items": [item(
        op="update", colis=colis.pk, base_version=version, **changes)]}, format="json").json()
    task_id = answer["items"][0]["task"]["task_id"]
    materialise(task_id)
    return ColisTask.objects.get(task_id=task_id)


@pytest.fixture
def made(alice, colis_data, tariffs, redis_clean):
    from sync.jobs import materialise

    tasks = send(alice, colis_data, n=3)
    for task in tasks:
        materialise(str(task.task_id))
    return [ColisTask.objects.select_related("colis").get(pk=t.pk) for t in tasks]


def test_it_shows_a_failed_edit_with_its_colis_numero_lot_and_client(alice, made, cargo_lot):
    colis = made[0].colis
    failed = edit(alice, colis, version=7, poids="13")  # a stale version: a conflict
    assert failed.status == Status.FAILED_FINAL and failed.error_code == "version_conflict"
    ColisTask.objects.filter(pk=failed.pk).update(lot=None)  # the row needs only its colis
    response = web(alice).get("/taches/")
    row = next(t for t in response.context["sections"]["failed"] if t.pk == failed.pk)
    assert row.client_name == "Diallo Aminata"
    html = response.content.decode()
    start = html.index(f'data-task-id="{failed.task_id}"')
    cells = html[start:html.index("</tr>", start)]
    assert f"Modification de {colis.numero_suivi}" in cells
    assert cargo_lot.numero_lot in cells and "Diallo Aminata" in cells
    detail = web(alice).get(f"/taches/{failed.task_id}/").content.decode()
    assert f"Modification de {colis.numero_suivi}" in detail and colis.numero_suivi in detail


def test_it_shows_one_completed_row_per_colis_with_its_edits(alice, made):
    colis = made[0].colis
    edit(alice, colis, version=1, poids="13")
    last = edit(alice, colis, version=2, poids="14")
    response = web(alice).get("/taches/")
    done = list(response.context["sections"]["completed"])
    assert len(done) == 3 and done[0].pk == last.pk
    assert [t.n_edits for t in done] == [2, 0, 0]
    html = response.content.decode()
    assert html.count(f'data-colis-id="{colis.pk}"') == 1 and "2 modifications" in html
    assert response.context["counts"]["done_24h"] == 3


def test_it_sends_the_newest_row_of_a_colis_to_the_live_board(alice, made):
    colis = made[0].colis
    cursor = web(alice).get("/taches/").context["cursor"]
    first = edit(alice, colis, version=1, poids="13")
    items = web(alice).get(f"/taches/changes.json?since={cursor}").json()["items"]
    by_task = {i["task_id"]: i for i in items}
    assert by_task[str(first.task_id)]["section"] == "completed"
    assert f'data-colis-id="{colis.pk}"' in by_task[str(first.task_id)]["html"]
    assert "1 modification" in by_task[str(first.task_id)]["html"]
