"""Lot pages scale with the data: a constant number of queries, whatever a lot holds,
and its colis, tasks and labels a page at a time, with totals over the whole lot."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from server.cargo import services
from server.cargo.models import Lot
from server.web import lots as lot_views
from sync.models import ColisTask, Status
from tests.web_helpers import send, set_status, web


def fill(user, data: dict, lot: Lot, n: int) -> list:
    """`n` colis in `lot`, each with the completed task that made it (and its history)."""
    made = services.create_colis_many([(user, {**data, "lot": lot.pk}, lot)] * n)
    tasks = send(user, {**data, "lot": lot.pk}, n=n)
    for colis, task in zip(made, tasks, strict=True):
        task.colis, task.status = colis, Status.COMPLETED
    ColisTask.objects.bulk_update(tasks, ["colis", "status"])
    return made


def queries_of(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    for query in ctx.captured_queries:  # a subquery grouped on runs once per row it groups
        assert "(SELECT" not in query["sql"].partition("GROUP BY")[2], query["sql"]
    return len(ctx.captured_queries)


def counts(client, lot: Lot) -> dict:
    return {path: queries_of(client, path)
            for path in ("/lots/", f"/lots/{lot.pk}/", f"/lots/{lot.pk}/etiquettes/")}


def test_it_reads_lots_in_the_same_number_of_queries_for_5_or_60_colis(
        alice, bob, colis_data, cargo_lot, tariffs):
    client = web(alice)
    closed = services.open_lot(bob, "bateau")
    fill(bob, colis_data, closed, 1)
    Lot.objects.filter(pk=closed.pk).update(statut=Lot.Statut.FERME)
    fill(alice, colis_data, cargo_lot, 5)
    send(alice, colis_data, n=2)  # active tasks of the lot
    small = counts(client, cargo_lot)
    fill(alice, colis_data, cargo_lot, 40)
    fill(bob, colis_data, cargo_lot, 15)
    for _ in range(3):  # more open lots, with their colis
        fill(bob, colis_data, services.open_lot(bob, "bateau"), 4)
    assert counts(client, cargo_lot) == small
    html = client.get(f"/lots/{cargo_lot.pk}/").content.decode()
    assert html.count('<article class="colis"') == lot_views.COLIS_PER_PAGE  # of 60


def test_it_shows_the_colis_50_a_page_with_totals_over_the_whole_lot(alice, colis_data,
                                                                   cargo_lot, tariffs):
    assert lot_views.COLIS_PER_PAGE == 50
    made = fill(alice, colis_data, cargo_lot, 101)
    client = web(alice)
    first = client.get(f"/lots/{cargo_lot.pk}/")
    assert first.context["lot"].n_colis == 101
    assert "<b>101</b> colis" in first.content.decode()
    shown = [c.pk for c in first.context["colis"]]
    assert shown == [c.pk for c in made[:50]]
    assert '<a href="?p_colis=2">' in first.content.decode()
    last = client.get(f"/lots/{cargo_lot.pk}/?p_colis=3").content.decode()
    assert last.count('<article class="colis"') == 1 and f'id="colis-{made[100].pk}"' in last
    assert "Page 3 sur 3" in last and "<b>101</b> colis" in last


def test_it_shows_the_tasks_a_page_at_a_time(alice, colis_data, cargo_lot, monkeypatch):
    monkeypatch.setattr(lot_views, "TASKS_PER_PAGE", 2)
    tasks = send(alice, colis_data, n=5)
    set_status(tasks[:1], Status.COMPLETED)
    client = web(alice)
    pages = [client.get(f"/lots/{cargo_lot.pk}/?p_tasks={n}") for n in (1, 2, 3)]
    seen = [t.pk for page in pages for t in page.context["tasks"]]
    assert seen == [t.pk for t in reversed(tasks)]  # newest first, each once
    assert pages[0].context["lot"].n_active == 4  # still counted over the whole lot


def test_it_prints_the_labels_of_a_lot_100_a_sheet(alice, colis_data, cargo_lot, tariffs):
    made = fill(alice, colis_data, cargo_lot, 101)
    client = web(alice)
    first = client.get(f"/lots/{cargo_lot.pk}/etiquettes/").content.decode()
    assert first.count("<svg ") == 100 and made[0].numero_suivi in first
    assert "Étiquettes 1 à 100 sur 101 : imprimez chaque page." in first
    last = client.get(f"/lots/{cargo_lot.pk}/etiquettes/?p=2").content.decode()
    assert last.count("<svg ") == 1 and made[100].numero_suivi in last


def test_it_keeps_the_label_sheets_links_off_the_printed_labels(alice, colis_data, cargo_lot,
                                                               monkeypatch):
    monkeypatch.setattr(lot_views, "LABELS_PER_PAGE", 2)
    fill(alice, colis_data, cargo_lot, 3)
    html = web(alice).get(f"/lots/{cargo_lot.pk}/etiquettes/?p=2").content.decode()
    pager = re.search(r'<div class="screen-only">(.*?)</div>', html, re.S).group(1)
    assert '<a href="?p=1">' in pager and "Page 2 sur 2" in pager
    # The pager comes before the labels: the last label stays the page's last element.
    assert html.index('<div class="screen-only">') < html.index('<section class="label">')
    assert html.rstrip().endswith("</section>\n\n</body>\n</html>")


def test_it_translates_the_label_sheets_pages(alice, colis_data, cargo_lot, monkeypatch):
    monkeypatch.setattr(lot_views, "LABELS_PER_PAGE", 2)
    fill(alice, colis_data, cargo_lot, 3)
    path = f"/lots/{cargo_lot.pk}/etiquettes/"
    english = web(alice).get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Labels 1 to 2 of 3: print each page." in english and "Next ›" in english
    chinese = web(alice).get(path, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "第 1 至 2 张标签，共 3 张：请逐页打印。" in chinese


def test_it_pages_the_open_lots(alice, monkeypatch):
    monkeypatch.setattr(lot_views, "LOTS_PER_PAGE", 2)
    opened = [services.open_lot(alice, "cargo") for _ in range(3)]
    client = web(alice)
    first, second = (client.get("/lots/", {"p": n}).context["open_lots"] for n in (1, 2))
    assert [lot.pk for lot in [*first, *second]] == [lot.pk for lot in reversed(opened)]
    assert all(lot.n_colis == 0 and lot.n_active == 0 for lot in first)
