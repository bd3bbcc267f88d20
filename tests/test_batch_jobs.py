"""One job per device batch: its creates without a photo made together, the rest one by one,
with the same steps, prices, feed positions and notifications as the one-task job."""

import pytest

from server.cargo import services
from server.cargo.models import Colis, Lot
from server.notifications.jobs import notify_many
from server.notifications.models import Notification
from sync.jobs import materialise_many
from sync.models import ColisTask, Status
from tests.conftest import item


@pytest.fixture
def send(alice_api, redis_clean):
    def send(items):
        response = alice_api.post("/api/v1/sync/", {"items": items}, format="json")
        assert response.status_code == 200
        return [row["task"]["task_id"] for row in response.json()["items"]]
    return send


@pytest.fixture
def run(settings, django_capture_on_commit_callbacks):
    """The batch's job, here; the notification job it queues runs at its commit."""
    settings.COLIS_ASYNC = False
    settings.NOTIFY_CHANNELS = ["log"]

    def run(task_ids):
        with django_capture_on_commit_callbacks(execute=True):
            return materialise_many(task_ids)
    return run


def test_it_makes_a_batch_in_one_job_with_every_step_recorded(send, colis_data, tariffs,
                                                              run):
    ids = send([item(**colis_data) for _ in range(5)])
    assert ColisTask.objects.values("rq_job_id").distinct().count() == 1
    before = max(ColisTask.objects.values_list("change_seq", flat=True))

    assert run(ids) == {"completed": 5}

    tasks = list(ColisTask.objects.filter(task_id__in=ids).select_related("colis"))
    assert {t.status for t in tasks} == {Status.COMPLETED}
    assert len({t.colis.numero_suivi for t in tasks}) == 5
    assert len({t.change_seq for t in tasks}) == 5 and min(t.change_seq for t in tasks) > before
    single = services.create_colis(tasks[0].initiated_by, colis_data)
    assert {t.colis.prix_calcule for t in tasks} == {single.prix_calcule}
    steps = list(tasks[0].events.order_by("id").values_list("from_status", "to_status"))
    assert steps == [("", "pending"), ("pending", "processing"),
                     ("processing", "price_calculating"),
                     ("price_calculating", "notification_sending"),
                     ("notification_sending", "completed")]
    assert Notification.objects.filter(status="sent").count() == 5


def test_it_does_nothing_more_when_the_job_runs_again(send, colis_data, tariffs,
                                                      run):
    ids = send([item(**colis_data) for _ in range(3)])
    run(ids)
    assert run(ids) == {"skipped": 3}
    assert Colis.objects.count() == 3
    assert Notification.objects.count() == 3


def test_it_fails_only_the_items_it_refuses_and_makes_the_others(send, alice, colis_data,
                                                                 tariffs, run):
    other = services.open_lot(alice, "cargo")
    ids = send([item(**colis_data), item(**{**colis_data, "lot": other.pk}),
                item(**colis_data, photo_id="7b0e7f4e-8a53-4a43-9a39-1d3b0f1f6a10")])
    # Closed between the sync and the job: services.close_lot refuses while a task is active,
    # so only a write around it can do this; the job still refuses the colis.
    Lot.objects.filter(pk=other.pk).update(statut=Lot.Statut.FERME)

    assert run(ids) == {"completed": 2, "failed_final": 1}

    made, refused, with_photo = (ColisTask.objects.get(task_id=i) for i in ids)
    assert made.status == Status.COMPLETED
    assert refused.status == Status.FAILED_FINAL and refused.error_code == "lot_closed"
    assert refused.colis_id is None
    assert with_photo.status == Status.COMPLETED
    assert with_photo.colis.photo_status == Colis.Photo.AWAITING


def test_it_sends_the_others_and_raises_when_one_notice_fails(alice, colis_data, tariffs,
                                                              settings, monkeypatch):
    from server.notifications import channels

    settings.NOTIFY_CHANNELS = ["log"]
    made = [services.create_colis(alice, colis_data) for _ in range(3)]
    real = channels.CHANNELS["log"]

    def flaky(colis, event, payload):
        if colis.pk == made[1].pk:
            raise OSError("passerelle SMS injoignable")
        real(colis, event, payload)

    monkeypatch.setitem(channels.CHANNELS, "log", flaky)
    with pytest.raises(OSError):
        notify_many([c.pk for c in made], "colis_registered")
    states = dict(Notification.objects.values_list("colis_id", "status"))
    assert states == {made[0].pk: "sent", made[1].pk: "failed", made[2].pk: "sent"}

    monkeypatch.setitem(channels.CHANNELS, "log", real)  # RQ's retry: only the failed one
    again = notify_many([c.pk for c in made] + [made[-1].pk + 100], "colis_registered")
    assert again == {"sent": 1, "skipped": 2, "missing": 1}  # a deleted colis: nothing to say
