"""« Synchronisation »: rows per agent and device, attention first, actions, search."""

from datetime import timedelta

from django.utils import timezone

from server.accounts.models import Device
from sync.counters import count_sync_request
from sync.models import ColisTask, Status, SyncRequestCount, TaskEvent
from tests.conftest import device_client, item
from tests.web_helpers import send, set_status, web


def test_it_retries_only_the_failed_tasks_of_an_agent(alice, bob, charlie, colis_data):
    tasks = send(alice, colis_data, n=5)
    set_status(tasks[:2], Status.FAILED_FINAL)
    set_status(tasks[2:3], Status.FAILED_RETRY)
    set_status(tasks[3:4], Status.COMPLETED, completed_at=timezone.now())
    set_status(tasks[4:], Status.CANCELLED)
    bobs = send(bob, colis_data)
    set_status(bobs, Status.FAILED_FINAL)
    response = web(charlie).post("/supervision/relancer/", {"agent": alice.pk}, follow=True)
    assert "3 tâches relancées." in response.content.decode()
    statuses = dict(ColisTask.objects.values_list("pk", "status"))
    assert [statuses[t.pk] for t in tasks] == ["pending"] * 3 + ["completed", "cancelled"]
    assert statuses[bobs[0].pk] == "failed_final"
    assert TaskEvent.objects.filter(by=charlie, to_status="pending").count() == 3


def test_it_retries_the_selected_tasks_only(alice, charlie, colis_data):
    tasks = send(alice, colis_data, n=3)
    set_status(tasks, Status.FAILED_FINAL)
    web(charlie).post("/supervision/relancer/", {"task": [str(tasks[0].task_id), "nope"]})
    statuses = [ColisTask.objects.get(pk=t.pk).status for t in tasks]
    assert statuses == ["pending", "failed_final", "failed_final"]


def test_it_retries_the_failed_tasks_of_a_lot(alice, charlie, colis_data, cargo_lot):
    from server.cargo import services

    other = services.open_lot(alice, "cargo")
    in_lot = send(alice, colis_data)
    elsewhere = send(alice, {**colis_data, "lot": other.pk})
    set_status(in_lot + elsewhere, Status.FAILED_FINAL)
    web(charlie).post("/supervision/relancer/", {"lot": cargo_lot.pk})
    assert ColisTask.objects.get(pk=in_lot[0].pk).status == "pending"
    assert ColisTask.objects.get(pk=elsewhere[0].pk).status == "failed_final"


def test_it_revokes_a_device_token(alice, charlie, colis_data):
    api = device_client(alice)
    web(charlie).post(f"/supervision/appareils/{api.device.pk}/revoquer/")
    assert Device.objects.get(pk=api.device.pk).is_revoked
    assert api.post("/api/v1/sync/", {"items": []}, format="json").status_code == 401


def test_it_shows_a_row_per_agent_and_device_attention_first(alice, bob, charlie, colis_data):
    quiet = device_client(alice, "GZ-1")
    send(alice, colis_data, n=2, api=quiet)
    silent = device_client(bob, "YW-1")
    failing = send(bob, colis_data, api=silent)
    set_status(failing, Status.FAILED_FINAL)
    Device.objects.filter(pk=silent.device.pk).update(
        outbox_pending=12, oldest_pending_at=timezone.now() - timedelta(hours=5),
        last_seen_at=timezone.now() - timedelta(hours=4))
    response = web(charlie).get("/supervision/")
    rows = response.context["rows"]
    assert [(r.user.username, r.device.name) for r in rows] == [("bob", "YW-1"),
                                                                 ("alice", "GZ-1")]
    assert rows[0].reasons == ["silent", "failed"] and rows[1].reasons == []
    assert (rows[1].pending, rows[0].failed) == (2, 1)
    html = response.content.decode()
    assert 'class="attention"' in html and "Sans contact depuis des heures" in html


def test_it_shows_queue_health_and_the_chart(charlie):
    html = web(charlie).get("/supervision/").content.decode()
    assert "État des files" in html and "workers actifs" in html
    assert '<svg viewBox="0 0 720 240" class="chart"' in html


def test_it_shows_the_sync_requests_that_failed_in_the_last_24_hours(alice, charlie, colis_data):
    api = device_client(alice, "GZ-1")
    bad = item(**{**colis_data, "poids": "lourd"})
    answer = api.post("/api/v1/sync/", {"items": [item(**colis_data), bad]}, format="json")
    assert [i["result"] for i in answer.json()["items"]] == ["accepted", "invalid"]
    api.post("/api/v1/sync/", {"items": [item(**colis_data)]}, format="json")
    count_sync_request(502)
    SyncRequestCount.objects.create(hour=timezone.now() - timedelta(hours=25), total=9,
                                    server_errors=4, refused=5)  # older than 24 h
    def item_of(html, key):
        return " ".join(html.split(f'id="{key}"')[1].split("</li>")[0].split())

    html = web(charlie).get("/supervision/").content.decode()
    assert item_of(html, "sync-errors").endswith(
        "<b>1</b> envois de synchronisation en erreur 5xx, sur 3 (24 h)")
    assert item_of(html, "sync-refused").endswith(
        "<b>1</b> envois de synchronisation refusés, sur 3 (24 h)")
    english = web(charlie).get("/supervision/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert item_of(english, "sync-refused").endswith("<b>1</b> sync requests refused, of 3 (24 h)")


def test_it_refreshes_the_live_part_alone(charlie, alice, colis_data):
    device_client(alice, "GZ-1")
    response = web(charlie).get("/supervision/live/")
    html = response.content.decode()
    assert "GZ-1" in html and "<html" not in html


def test_it_finds_a_task_by_op_id_task_id_and_client(alice, charlie, colis_data):
    task = send(alice, colis_data)[0]
    client = web(charlie)
    for query in (str(task.op_id), str(task.task_id), "diallo", "Aminata"):
        found = client.get("/supervision/recherche/", {"q": query}).context["tasks"]
        assert [t.pk for t in found] == [task.pk], query
    assert list(client.get("/supervision/recherche/", {"q": "Personne"}).context["tasks"]) == []


def test_it_finds_a_colis_by_its_numero_de_suivi_with_its_history(alice, charlie, colis_data):
    from server.cargo import services

    task = send(alice, colis_data)[0]
    colis = services.create_colis(alice, colis_data)
    ColisTask.objects.filter(pk=task.pk).update(colis=colis)
    response = web(charlie).get("/supervision/recherche/", {"q": colis.numero_suivi.lower()})
    assert [t.pk for t in response.context["tasks"]] == [task.pk]
    assert "Reçu de l&#x27;appareil" in response.content.decode()


def _poll(client, version: str):
    return client.get("/supervision/live/", {"v": version})


def test_a_poll_with_nothing_changed_returns_nothing_to_render(alice, charlie, colis_data):
    send(alice, colis_data, n=2, api=device_client(alice, "GZ-1"))
    client = web(charlie)
    version = client.get("/supervision/").context["version"]
    response = _poll(client, version)
    assert response.status_code == 204 and response.content == b""
    assert _poll(client, version).status_code == 204  # and again


def test_a_changed_task_re_renders_its_row_only(alice, bob, charlie, colis_data):
    send(alice, colis_data, n=2, api=device_client(alice, "GZ-1"))
    bobs = device_client(bob, "YW-1")
    tasks = send(bob, colis_data, n=2, api=bobs)
    client = web(charlie)
    page = client.get("/supervision/")
    set_status(tasks[1:], Status.FAILED_RETRY)  # not the oldest pending: the health card stays
    answer = _poll(client, page.context["version"]).json()
    key = f"{bob.pk}-{bobs.device.pk}"
    assert list(answer["rows"]) == [key] and "full" not in answer
    assert answer["rows"][key].startswith(f'<tr data-key="{key}" class="attention">')
    assert "Tâches en échec" in answer["rows"][key] and "GZ-1" not in answer["rows"][key]
    assert answer["order"] == [key, f"{alice.pk}-{alice.devices.get().pk}"]  # attention first
    assert answer["health"] is None
    assert _poll(client, answer["version"]).status_code == 204  # the new version is known


def test_a_poll_sends_the_health_card_when_it_changed(alice, charlie, colis_data):
    tasks = send(alice, colis_data, n=2, api=device_client(alice, "GZ-1"))
    client = web(charlie)
    version = client.get("/supervision/").context["version"]
    set_status(tasks, Status.FAILED_FINAL)
    answer = _poll(client, version).json()
    assert "tâches en échec définitif" in answer["health"] and len(answer["rows"]) == 1
    assert answer["order"] is None  # one row, still in its place


def test_a_forgotten_version_gets_the_whole_live_part(alice, charlie, colis_data):
    device_client(alice, "GZ-1")
    answer = _poll(web(charlie), "not-a-version").json()
    assert "GZ-1" in answer["full"] and "État des files" in answer["full"]
    assert answer["version"] and "rows" not in answer


def test_a_new_device_is_sent_with_the_order(alice, bob, charlie):
    device_client(alice, "GZ-1")
    client = web(charlie)
    version = client.get("/supervision/").context["version"]
    new = device_client(bob, "YW-1")
    answer = _poll(client, version).json()
    key = f"{bob.pk}-{new.device.pk}"
    assert list(answer["rows"]) == [key] and key in answer["order"] and len(answer["order"]) == 2


def test_ages_are_current_in_a_row_drawn_before(alice, charlie):
    api = device_client(alice, "GZ-1")
    seen = timezone.now() - timedelta(minutes=3)
    Device.objects.filter(pk=api.device.pk).update(last_seen_at=seen)
    client = web(charlie)
    first = client.get("/supervision/live/").content.decode()
    assert f'<time datetime="{seen.isoformat(timespec="seconds")}" data-since>3 min' in first
    Device.objects.filter(pk=api.device.pk).update(last_seen_at=seen - timedelta(hours=1))
    again = client.get("/supervision/live/").content.decode()
    assert "data-since>1 h 03 min</time>" in again


def test_the_revoke_buttons_share_one_form_with_its_confirmation(alice, charlie):
    api = device_client(alice, "GZ-1")
    html = web(charlie).get("/supervision/").content.decode()
    assert html.count("{% csrf") == 0 and '<form method="post" id="revoke" data-confirm=' in html
    assert (f'<button form="revoke" formaction="/supervision/appareils/{api.device.pk}/revoquer/"'
            in html)


def test_a_poll_naming_no_known_version_gets_the_whole_part(charlie):
    client = web(charlie)
    for version in ("", "0123456789abcdef", "x" * 400):
        answer = _poll(client, version).json()
        assert "État des files" in answer["full"] and answer["version"] != version


def test_a_failed_task_row_is_redrawn_when_what_it_shows_changes(alice, charlie, colis_data):
    task = send(alice, colis_data)[0]
    set_status([task], Status.FAILED_FINAL, error_code="", error_message="Premier motif")
    client = web(charlie)
    assert "Premier motif" in client.get("/supervision/").content.decode()
    ColisTask.objects.filter(pk=task.pk).update(error_message="Second motif")  # same updated_at
    html = client.get("/supervision/").content.decode()
    assert "Second motif" in html and "Premier motif" not in html
    assert '<form method="post" id="cancel" data-confirm="Annuler cette tâche ?">' in html
    assert f'<button form="cancel" formaction="/taches/{task.task_id}/annuler/"' in html
