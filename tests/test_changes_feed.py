import threading

import pytest
from django.db import connection, transaction

from sync import changes, states
from sync.models import ColisTask, Status
from tests.conftest import item

URL = "/api/v1/sync/changes"


def feed(api, since=None):
    response = api.get(URL, {"since": since} if since is not None else {})
    assert response.status_code == 200
    return response.json()


def test_it_returns_every_task_of_the_caller_once_then_nothing(alice_api, bob_api, colis_data,
                                                               redis_clean):
    alice_api.post("/api/v1/sync/", {"items": [item(**colis_data) for _ in range(3)]},
                   format="json")
    bob_api.post("/api/v1/sync/", {"items": [item(**colis_data)]}, format="json")
    page = feed(alice_api)
    assert len(page["items"]) == 3 and page["has_more"] is False
    assert feed(alice_api, page["cursor"])["items"] == []
    assert len(feed(bob_api)["items"]) == 1


def test_it_pages_with_has_more(alice_api, colis_data, settings, redis_clean):
    settings.CHANGES_PAGE = 2
    alice_api.post("/api/v1/sync/", {"items": [item(**colis_data) for _ in range(5)]},
                   format="json")
    seen, cursor, pages = [], None, 0
    while True:
        page = feed(alice_api, cursor)
        seen += [t["task_id"] for t in page["items"]]
        cursor, pages = page["cursor"], pages + 1
        if not page["has_more"]:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 5


def test_it_shows_a_task_again_when_it_changes(alice, alice_api, colis_data, redis_clean):
    alice_api.post("/api/v1/sync/", {"items": [item(**colis_data)]}, format="json")
    cursor = feed(alice_api)["cursor"]
    with transaction.atomic():
        task = ColisTask.objects.select_for_update().get()
        states.transition(task, Status.CANCELLED, by=alice)
    page = feed(alice_api, cursor)
    assert [t["status"] for t in page["items"]] == ["cancelled"]


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5"])
def test_it_refuses_a_bad_cursor(alice_api, cursor):
    assert alice_api.get(URL, {"since": cursor}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_it_never_skips_a_change_committed_out_of_order(alice, alice_api, colis_data,
                                                        redis_clean):
    """T1 takes its feed position and holds its transaction open; T2 writes meanwhile.

    T2 must not become visible with a position above a change still in flight: the
    reader's cursor would pass T1's change and skip it for ever.
    """
    answers = alice_api.post("/api/v1/sync/", {"items": [item(**colis_data) for _ in range(2)]},
                             format="json").json()["items"]
    first, second = (a["task"]["task_id"] for a in answers)
    cursor = feed(alice_api)["cursor"]
    t1_stamped, release_t1, t2_done = threading.Event(), threading.Event(), threading.Event()

    def t1():
        with transaction.atomic():
            task = ColisTask.objects.select_for_update().get(task_id=first)
            states.transition(task, Status.CANCELLED)
            t1_stamped.set()
            release_t1.wait(10)
        connection.close()

    def t2():
        with transaction.atomic():
            task = ColisTask.objects.select_for_update().get(task_id=second)
            states.transition(task, Status.CANCELLED)
        t2_done.set()
        connection.close()

    threads = [threading.Thread(target=t1)]
    threads[0].start()
    assert t1_stamped.wait(10)
    threads.append(threading.Thread(target=t2))
    threads[1].start()
    t2_done.wait(1.0)  # T2 may not commit while T1 holds the feed position
    mid = feed(alice_api, cursor)
    seen = {t["task_id"] for t in mid["items"]}
    assert seen == set(), "a change became visible while an earlier one was in flight"
    release_t1.set()
    for thread in threads:
        thread.join(15)
    rest = feed(alice_api, mid["cursor"])
    assert [t["task_id"] for t in rest["items"]] == [first, second]


def test_it_parses_cursors():
    assert changes.parse_cursor(None) == 0
    assert changes.parse_cursor("42") == 42
    with pytest.raises(ValueError):
        changes.parse_cursor("x")
