"""« Résultats »: the rollout's figures from a known history, exactly, on the page and in the
exports; the sync request counters; the save time a tablet sends; who sees what."""

import csv
import io
import re
import uuid
from datetime import date, datetime, time, timedelta
from html import unescape

import pytest
from django.db import connection
from django.test import Client as WebClient
from django.urls import path
from django.utils import timezone, translation
from prometheus_client.parser import text_string_to_metric_families

from server.cargo.models import Colis
from server.web import figures
from server.web.results import table
from server.web.templatetags.results_extras import seconds
from sync.counters import count_sync_request
from sync.models import ColisTask, Status, SyncRequestCount
from tests.conftest import device_client, item, make_user
from tests.web_helpers import web
from tests.workers import run_burst


def _raise(request):
    raise RuntimeError("a bug in the sync view")


# For the middleware test: the sync endpoint's URL answered by a view that raises.
urlpatterns = [path("api/v1/sync/", _raise, name="sync-batch")]

APPROX = {"abs": 1e-3}


def at(days_ago: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A local time `days_ago` days before today."""
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)))


class History:
    """Saves at chosen times. Each completed task: received 5 s after its save, started
    10 s after it, done `backend` s later (save to completed = 10 + backend)."""

    def __init__(self, lot, client):
        self.lot, self.client, self.n = lot, client, 0

    def save(self, user, saved, *, backend=None, save_ms=None, photo=None,
             op=ColisTask.Operation.CREATE, status=Status.COMPLETED):
        self.n += 1
        colis = None
        if status == Status.COMPLETED and op == ColisTask.Operation.CREATE:
            colis = Colis.objects.create(
                numero_suivi=f"T{self.n:06d}", lot=self.lot, client=self.client,
                type_transport="cargo", poids=1, longueur=1, largeur=1, hauteur=1,
                created_by=user, photo_status=photo or Colis.Photo.NONE)
        started = saved + timedelta(seconds=10)
        done = started + timedelta(seconds=backend) if status == Status.COMPLETED else None
        return ColisTask.objects.create(
            op_id=uuid.uuid4(), operation=op, status=status, payload_hash="", lot=self.lot,
            colis=colis, initiated_by=user, saved_at=saved,
            created_at=saved + timedelta(seconds=5), started_at=started, completed_at=done,
            save_ms=save_ms)


@pytest.fixture
def history(alice, bob, cargo_lot, client_row):
    """Day 3 ago: alice saves at 09:00, 09:10, 09:20 (one period: 20 min + 1 min), 10:00
    and 10:15 (40 min idle, then a gap of exactly 15 min: 15 + 1 min), 14:00 alone, failed
    (1 min). Day 2 ago: nothing. Day 1 ago: bob saves at 08:00:00 and 08:00:30 (30 s + 1
    min); alice edits a colis at 11:00."""
    h = History(cargo_lot, client_row)
    ready, failed, awaiting = Colis.Photo.READY, Colis.Photo.FAILED, Colis.Photo.AWAITING
    h.save(alice, at(3, 9, 0), backend=20, save_ms=100, photo=ready)
    h.save(alice, at(3, 9, 10), backend=30, save_ms=200, photo=ready)
    h.save(alice, at(3, 9, 20), backend=40, save_ms=300, photo=failed)
    h.save(alice, at(3, 10, 0), backend=50, save_ms=400)
    h.save(alice, at(3, 10, 15), backend=60, save_ms=1000)
    h.save(alice, at(3, 14, 0), status=Status.FAILED_FINAL)
    h.save(bob, at(1, 8, 0), backend=100, save_ms=3000, photo=awaiting)
    h.save(bob, at(1, 8, 0, 30), backend=200, save_ms=5000)
    h.save(alice, at(1, 11, 0), backend=10, save_ms=500, op=ColisTask.Operation.UPDATE)
    SyncRequestCount.objects.create(hour=at(3, 9), total=10, server_errors=1)
    SyncRequestCount.objects.create(hour=at(1, 8), total=50, server_errors=0)
    # Outside the 30 days: counts nowhere.
    h.save(alice, at(30, 9, 0), backend=999, save_ms=99_999)
    SyncRequestCount.objects.create(hour=at(30, 9), total=99, server_errors=99)
    return h


def _text(html: str) -> str:
    """What a page's piece of HTML says, tags left out."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def _day(data, days_ago):
    wanted = timezone.localdate() - timedelta(days=days_ago)
    return next(f for d, f in data.days if d == wanted)


def test_it_measures_every_figure_of_the_period(history):
    total = figures.results().total
    assert (total.saves, total.colis) == (9, 7)
    assert total.active_s == pytest.approx(1260 + 960 + 60 + 90, **APPROX)
    assert total.colis_per_hour == pytest.approx(7 * 3600 / 2370, **APPROX)
    assert (total.save_p50, total.save_p95) == (pytest.approx(450), pytest.approx(4300))
    assert total.took_avg == pytest.approx(590 / 8, **APPROX)
    assert total.took_p95 == pytest.approx(175, **APPROX)
    assert total.backend_avg == pytest.approx(510 / 8, **APPROX)
    assert total.backend_p95 == pytest.approx(165, **APPROX)
    assert (total.photos, total.photos_failed, total.photo_failure_rate) == (4, 1, 0.25)
    assert (total.requests, total.server_errors) == (60, 1)
    assert total.met == {"save": True, "productivity": False, "photos": False,
                         "errors": True, "backend": False}


def test_it_measures_each_day_and_shows_the_idle_ones(history):
    data = figures.results()
    assert len(data.days) == 30 and data.days[-1][0] == timezone.localdate()
    first = _day(data, 3)
    assert (first.saves, first.colis, first.active_s) == (6, 5, pytest.approx(2280, **APPROX))
    assert (first.save_p50, first.save_p95) == (pytest.approx(300), pytest.approx(880))
    assert (first.took_avg, first.took_p95) == (pytest.approx(50), pytest.approx(68))
    assert (first.backend_avg, first.backend_p95) == (pytest.approx(40), pytest.approx(58))
    assert (first.photos, first.photos_failed, first.requests, first.error_rate) == (3, 1, 10, 0.1)
    last = _day(data, 1)
    assert (last.saves, last.colis, last.active_s) == (3, 2, pytest.approx(90, **APPROX))
    assert last.colis_per_hour == pytest.approx(80, **APPROX)
    assert (last.save_p50, last.save_p95) == (pytest.approx(3000), pytest.approx(4800))
    assert last.took_avg == pytest.approx(340 / 3, **APPROX)
    assert (last.took_p95, last.backend_p95) == (pytest.approx(200), pytest.approx(190))
    assert (last.photos, last.photo_failure_rate, last.error_rate) == (1, 0, 0)
    assert last.met == {"save": False, "productivity": True, "photos": True, "errors": True,
                        "backend": False}
    idle = _day(data, 2)
    assert not idle.active and idle.colis_per_hour is None and idle.save_p50 is None
    assert idle.met == dict.fromkeys(idle.met)
    assert sum(1 for _, f in data.days if f.active) == 2


def test_it_measures_each_agent(history, alice, bob):
    agents = {user.username: f for user, f in figures.results().agents}
    assert sorted(agents) == ["alice", "bob"]
    a, b = agents["alice"], agents["bob"]
    assert (a.saves, a.colis, a.active_s) == (7, 5, pytest.approx(2280, **APPROX))
    assert a.colis_per_hour == pytest.approx(5 * 3600 / 2280, **APPROX)
    assert (a.save_p50, a.save_p95) == (pytest.approx(350), pytest.approx(875))
    assert (a.took_avg, a.backend_avg) == (pytest.approx(45), pytest.approx(35))
    assert (b.colis, b.colis_per_hour, b.save_p50, b.save_p95) == (
        2, pytest.approx(80, **APPROX), pytest.approx(4000), pytest.approx(4900))
    mine = figures.results(agent=alice).total
    assert (mine.saves, mine.colis, mine.requests) == (7, 5, 0)
    assert (mine.save_p50, mine.backend_avg) == (pytest.approx(350), pytest.approx(35))


def test_it_counts_a_gap_of_more_than_fifteen_minutes_as_idle(alice, cargo_lot, client_row):
    h = History(cargo_lot, client_row)
    h.save(alice, at(1, 9, 0), backend=1)
    h.save(alice, at(1, 9, 15, 1), backend=1)  # 15 min 1 s: a new period
    h.save(alice, at(1, 9, 30, 1), backend=1)  # exactly 15 min: the same period
    assert figures.results().total.active_s == pytest.approx(60 + 900 + 60, **APPROX)


def test_it_shows_the_page_to_supervisors_only(history, alice, charlie):
    assert web(alice).get("/resultats/").status_code == 403
    assert web(alice).get("/resultats/resultats.csv").status_code == 403
    assert web(alice).get("/resultats/resultats.xlsx").status_code == 403
    assert web().get("/resultats/").status_code == 302
    page = web(charlie).get("/resultats/").content.decode()
    assert 'href="/resultats/"' in page and "Aucune activité." in page
    assert 'data-agent="alice"' in page and 'data-agent="bob"' in page
    day = (timezone.localdate() - timedelta(days=3)).isoformat()
    row = page.split(f'data-day="{day}"')[1].split("</tr>")[0]
    assert "7,9" in row or "7.9" in row  # 5 colis in 38 active minutes


def test_it_shows_an_agent_their_own_figures_on_the_board(history, alice, bob):
    page = web(alice).get("/taches/").content.decode()
    block = page.split('id="my-results"')[1].split("</section>")[0]
    assert "7,9" in block and "350 ms" in block and "33,3 %" in block
    assert 'href="/resultats/"' not in page
    other = web(bob).get("/taches/").content.decode().split('id="my-results"')[1]
    assert "80,0" in other.split("</section>")[0]


@pytest.mark.parametrize("lang, tenths", [("fr", "3,2 s"), ("en", "3.2 s"), ("zh-hans", "3.2 s")])
def test_it_writes_the_boards_durations_in_one_format(alice, cargo_lot, client_row, lang,
                                                     tenths):
    History(cargo_lot, client_row).save(alice, at(0, 0, 1), backend=2720.2, save_ms=500)
    client = web(alice)
    client.cookies["django_language"] = lang
    page = client.get("/taches/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    today = page.split('data-count="avg_today">')[1].split("<")[0]
    block = page.split('id="my-results"')[1].split("</section>")[0]
    assert today == "45 min 30 s"  # today's average, and the 30 days' (one task: the same)
    assert "<b>45 min 30 s</b>" in block and "<b>45 min 20 s</b>" in block  # and backend
    assert "2730" not in page
    with translation.override(lang):
        assert (seconds(16565.1), seconds(3.2), seconds(59.99), seconds(None)) == (
            "4 h 36 min", tenths, "1 min 00 s", "—")


def test_it_exports_csv_for_french_excel(history, charlie):
    make_user("=cmd", "agent_chine")
    history.save(type(charlie).objects.get(username="=cmd"), at(1, 9), backend=5, save_ms=700)
    response = web(charlie).get("/resultats/resultats.csv")
    body = response.content.decode("utf-8")
    assert response["Content-Type"].startswith("text/csv") and body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:]), delimiter=";"))
    assert rows[0][:3] == ["Portée", "Jour ou agent", "Tâches enregistrées"]
    assert rows[1][0] == "Objectif" and rows[1][5] == "50"
    alice_row = next(r for r in rows if r[1] == "alice")
    assert alice_row[2:6] == ["7", "5", "0,633", "7,9"]  # 7.89: one decimal, as judged
    assert any(r[1] == "'=cmd" for r in rows)
    assert len(rows) == 1 + 2 + 30 + 3


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_it_exports_csv_with_commas_and_decimal_points_outside_french(history, charlie,
                                                                      language):
    make_user("=cmd", "agent_chine")
    history.save(type(charlie).objects.get(username="=cmd"), at(1, 9), backend=5, save_ms=700)
    body = web(charlie).get("/resultats/resultats.csv",
                            HTTP_ACCEPT_LANGUAGE=language).content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert {len(row) for row in rows} == {len(rows[0])} and len(rows[0]) > 10
    alice_row = next(r for r in rows if r[1] == "alice")
    assert alice_row[2:6] == ["7", "5", "0.633", "7.9"]
    assert any(r[1] == "'=cmd" for r in rows)


def _day_row(rows, days_ago):
    wanted = timezone.localdate() - timedelta(days=days_ago)
    return next(r for r in rows if r[1] in (wanted, datetime.combine(wanted, time())))


def test_it_exports_xlsx_with_numbers_as_numbers(history, charlie):
    from openpyxl import load_workbook

    response = web(charlie).get("/resultats/resultats.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    bob_row = next(r for r in rows if r[1] == "bob")
    assert bob_row[2:4] == [2, 2]
    # Each figure with a target, then whether it is met, as on the page.
    assert bob_row[5:9] == [pytest.approx(80), "atteint", 4000, "non atteint"]
    assert rows[0][5:9] == ["Colis par heure-agent", "Colis par heure-agent : objectif atteint",
                            "Saisie p50 (ms)", "Saisie p50 (ms) : objectif atteint"]
    total = rows[2]
    assert total[12:15] == [63.8, "non atteint",  # 510 / 8 = 63.75, one decimal
                            pytest.approx(165, rel=0.005)]  # from 1 % buckets
    assert total[17:25] == [25, "non atteint", 60, 1, 1.67, "atteint", 0, 0]
    assert _day_row(rows, 2)[5:9] == [None, None, None, None]  # an idle day: nothing to judge
    assert len(rows) == 1 + len(table(figures.results()))


def test_it_counts_sync_requests_and_their_server_errors(alice_api, alice):
    assert alice_api.post("/api/v1/sync/", {"items": [item()]}, format="json").status_code < 500
    alice_api.get("/api/v1/sync/changes?since=0")
    count_sync_request(503)
    row = SyncRequestCount.objects.get()
    assert (row.total, row.server_errors) == (2, 1)
    assert row.hour == timezone.now().replace(minute=0, second=0, microsecond=0)


def test_it_counts_a_refused_batch_or_item_as_a_refused_request(alice_api, colis_data):
    def send(body):
        return alice_api.post("/api/v1/sync/", body, format="json")

    def counted():
        return SyncRequestCount.objects.values_list("total", "server_errors", "refused").get()

    good = item(**colis_data)
    assert send({"items": [good]}).json()["items"][0]["result"] == "accepted"
    assert send({"items": [good]}).json()["items"][0]["result"] == "duplicate"
    assert counted() == (2, 0, 0)
    bad = item(**{**colis_data, "poids": "lourd"})  # field errors: never a task
    answer = send({"items": [item(**colis_data), bad]})
    assert [i["result"] for i in answer.json()["items"]] == ["accepted", "invalid"]
    assert counted() == (3, 0, 1)
    reused = {**good, "data": {**colis_data, "poids": "3"}}  # its op_id, another payload
    assert send({"items": [reused]}).json()["items"][0]["result"] == "conflict"
    assert send({"batch": []}).status_code == 400
    assert counted() == (5, 0, 3)
    count_sync_request(503, refused=True)  # a 5xx is a server error, not also a refusal
    assert counted() == (6, 1, 3)
    assert ColisTask.objects.count() == 2


def test_it_shows_refused_requests_beside_the_server_errors(history, charlie, client, settings):
    """The history's 60 requests (1 answered 5xx), and an otherwise idle day (2 days ago)
    whose 40 requests had 3 refused: the plan's figure stays 1 server error out of 100, and
    3 refused out of 100 stand beside it, with no target."""
    SyncRequestCount.objects.create(hour=at(2, 10), total=40, server_errors=0, refused=3)
    for data in (figures.results(), figures.page_results()):
        total = data.total
        assert (total.requests, total.server_errors, total.refused) == (100, 1, 3)
        assert total.error_rate == pytest.approx(0.01) and total.met["errors"] is True
        assert total.refused_rate == pytest.approx(0.03)
        day = _day(data, 2)
        assert (day.saves, day.requests, day.refused) == (0, 40, 3)
        assert (day.error_rate, day.refused_rate) == (0, pytest.approx(0.075))
        assert _day(data, 3).error_rate == pytest.approx(0.1)  # 1 5xx, nothing refused
        assert _day(data, 3).refused_rate == 0
    page = web(charlie).get("/resultats/").content.decode()
    target = page.split('id="target-errors"')[1].split("</tr>")[0]
    assert "1,00 %" in target and "(1 / 100)" in target
    refused = page.split('id="target-refused"')[1].split("</tr>")[0]
    assert "3,00 %" in refused and "(3 / 100)" in refused
    day_row = page.split(f'data-day="{timezone.localdate() - timedelta(days=2):%Y-%m-%d}"')[1]
    day_row = day_row.split("</tr>")[0]
    assert "7,50 %" in day_row
    english = web(charlie).get("/resultats/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Refused sync requests" in english
    rows = list(csv.reader(io.StringIO(web(charlie).get("/resultats/resultats.csv").content
                                       .decode("utf-8-sig")), delimiter=";"))
    assert rows[0][19:25] == ["Requêtes de synchronisation", "Réponses 5xx", "Réponses 5xx (%)",
                              "Réponses 5xx (%) : objectif atteint", "Requêtes refusées",
                              "Requêtes refusées (%)"]
    assert rows[2][19:25] == ["100", "1", "1", "atteint", "3", "3"]
    settings.METRICS_TOKEN = "scraper"
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scraper").content.decode()
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value
           for family in text_string_to_metric_families(text) for s in family.samples}
    assert got["colis_sync_refused_total", ()] == 3
    assert got["colis_results_sync_error_ratio", (("agent", ""), ("period", "30d"))] == \
        pytest.approx(0.01)
    assert got["colis_results_sync_refused_ratio", (("agent", ""), ("period", "30d"))] == \
        pytest.approx(0.03)


def test_it_counts_only_the_sync_requests_of_a_tablet_let_in(alice_api, charlie_api, client):
    """Refused at the door (401, 403), a request is no device's sync: anyone could post
    thousands and dilute the 5xx rate the rollout is judged on."""
    assert client.post("/api/v1/sync/", {"items": []}, content_type="application/json"
                       ).status_code == 401
    assert client.post("/api/v1/sync/", {"items": []}, content_type="application/json",
                       HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401
    assert charlie_api.post("/api/v1/sync/", {"items": [item()]}, format="json"
                            ).status_code == 403  # a supervisor registers nothing
    alice_api.device.revoke()
    assert alice_api.post("/api/v1/sync/", {"items": [item()]}, format="json"
                          ).status_code == 401
    assert SyncRequestCount.objects.count() == 0
    assert device_client(alice_api.device.user).post(
        "/api/v1/sync/", {"items": []}, format="json").status_code == 200
    assert SyncRequestCount.objects.values_list("total", flat=True).get() == 1


@pytest.mark.urls(__name__)
def test_it_counts_a_500_from_an_exception(db):
    client = WebClient(raise_request_exception=False)
    assert client.post("/api/v1/sync/", {}).status_code == 500
    assert client.post("/api/v1/sync/", {}).status_code == 500
    assert list(SyncRequestCount.objects.values_list("total", "server_errors")) == [(2, 2)]


@pytest.mark.parametrize("sent, kept", [
    (1234.6, 1235), (0, 0), (600_000, 600_000), (600_001, None), (-1, None), ("850", None),
    (True, None), (None, None), (1e308, None), (10**400, None)],
    ids=["float", "zero", "max", "over", "negative", "text", "bool", "none", "huge", "bigint"])
def test_it_keeps_the_save_time_a_tablet_sends_when_plausible(alice_api, colis_data, sent, kept):
    body = {**item(**colis_data), "save_ms": sent}
    answer = alice_api.post("/api/v1/sync/", {"items": [body]}, format="json")
    assert answer.status_code == 200 and answer.json()["items"][0]["result"] == "accepted"
    assert ColisTask.objects.get(op_id=body["op_id"]).save_ms == kept


def test_it_computes_in_a_few_queries(history, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        figures.results()
    assert connection.vendor in ("sqlite", "postgresql")


@pytest.mark.parametrize("lang, word", [("en", "Parcels per agent-hour"), ("zh-hans", "每操作员小时包裹数")])
def test_it_speaks_the_viewers_language(history, charlie, lang, word):
    client = web(charlie)
    client.cookies["django_language"] = lang
    page = client.get("/resultats/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert word in page and "Colis par heure-agent" not in page


def _fields(f):
    return {name: getattr(f, name) for name in figures.ADDITIVE + figures.EXACT}


def test_it_reads_the_page_from_daily_rows_equal_to_the_live_figures(history):
    live, page = figures.results(), figures.page_results()
    assert [d for d, _ in page.days] == [d for d, _ in live.days]
    for (day, cached), (_, exact) in zip(page.days, live.days, strict=True):
        assert _fields(cached) == pytest.approx(_fields(exact), abs=1e-3), day
    assert figures.ResultDay.objects.filter(agent=None).count() == 30
    for name in figures.ADDITIVE:
        assert getattr(page.total, name) == pytest.approx(getattr(live.total, name), abs=1e-3)
    # Several days: from the histograms, within half a percent; one day: exact.
    for name in figures.EXACT:
        assert getattr(page.total, name) == pytest.approx(getattr(live.total, name), rel=0.005)
    agents = {u.username: f for u, f in page.agents}
    assert agents["alice"].save_p50 == pytest.approx(350, rel=0.005)
    assert (agents["bob"].save_p50, agents["bob"].save_p95) == (4000, 4900)


def test_it_brings_the_daily_rows_up_to_date(history, alice, django_assert_max_num_queries,
                                             inline_jobs):
    figures.page_results()
    with django_assert_max_num_queries(7):  # nothing due: read the rows
        figures.page_results()
    # A tablet syncs late a save of 3 days ago: that settled day is computed again.
    late = history.save(alice, at(3, 16, 0), backend=5, save_ms=100)
    ColisTask.objects.filter(pk=late.pk).update(created_at=timezone.now())
    page = figures.page_results()
    assert _day(page, 3).saves == 7
    # ... and the percentiles over the 30 days, merged again: 350 ms before, 300 now.
    alice_30 = next(f for user, f in page.agents if user == alice)
    assert alice_30.save_p50 == pytest.approx(300, rel=0.005)
    # A save of yesterday (unsettled) shows once the day's rows are REFRESH old.
    late = history.save(alice, at(1, 12, 0), backend=5, save_ms=100)
    ColisTask.objects.filter(pk=late.pk).update(created_at=timezone.now())
    assert _day(figures.page_results(), 1).saves == 3
    later = timezone.now() + figures.REFRESH + timedelta(seconds=1)
    assert _day(figures.page_results(now=later), 1).saves == 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_it_serves_a_stale_day_and_refreshes_it_in_a_worker(alice, cargo_lot, client_row,
                                                            redis_clean):
    h = History(cargo_lot, client_row)
    later, yesterday = _later_and_its_yesterday()
    h.save(alice, _at(yesterday, 9), backend=5, save_ms=100)
    figures.page_results()
    h.save(alice, _at(yesterday, 10), backend=5, save_ms=300)
    assert _on(figures.page_results(now=later), yesterday).saves == 1  # as it was; queued
    merged = figures.ResultPeriod.objects.get(agent=None)
    assert _on(figures.page_results(now=later), yesterday).saves == 1  # claimed: not again
    assert figures.ResultPeriod.objects.get(agent=None).pk == merged.pk  # nor merged again
    run_burst("colis")
    assert figures.ResultPeriod.objects.get(agent=None).computed_at == later  # the job's
    day = _on(figures.page_results(now=later), yesterday)
    assert (day.saves, day.save_p50) == (2, pytest.approx(200))


def _later_and_its_yesterday() -> tuple[datetime, date]:
    """REFRESH from now, and the day before it: yesterday, or today when REFRESH from now
    is past midnight (a day that is unsettled now and then)."""
    later = timezone.now() + figures.REFRESH + timedelta(seconds=1)
    return later, timezone.localdate(later) - timedelta(days=1)


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _on(data, day: date):
    return next(f for d, f in data.days if d == day)


def _same_percentiles(page, live):
    for name in figures.EXACT:
        assert getattr(page.total, name) == pytest.approx(getattr(live.total, name),
                                                          rel=0.005), name


def test_it_merges_the_period_again_when_a_job_ends_after_a_view_merged(history, alice, bob):
    """A job refreshes its days as of the time of its claim; a view that merges the 30 days
    between two of them, at its own later time, must not keep the job's last day out."""
    figures.page_results()
    history.save(bob, at(1, 9), backend=3000, save_ms=100)
    for minute in range(3):
        history.save(alice, at(3, 15, minute), backend=4000, save_ms=9000)
    claimed = timezone.now()  # the job: both days, as of its claim
    figures.refresh_day(timezone.localdate() - timedelta(days=1), claimed)
    view = claimed + timedelta(seconds=30)  # a view while the job is half way
    assert figures.refresh_due(figures._calendar(view), view) == []  # nothing more to do
    assert figures.page_results(now=view).total.took_p95 < 3000  # merged: day 1 alone new
    figures.refresh_day(timezone.localdate() - timedelta(days=3), claimed)  # the job's end
    page = figures.page_results(now=view + timedelta(seconds=1))
    assert page.total.took_p95 > 3000  # day 3's slow saves, merged
    _same_percentiles(page, figures.results())
    agents = dict(page.agents)
    assert agents[alice].save_p95 == pytest.approx(9000, rel=0.005)
    # ... and merged once: the next view reads the merge.
    merged = figures.ResultPeriod.objects.get(agent=None)
    figures.page_results(now=view + timedelta(seconds=2))
    assert figures.ResultPeriod.objects.get(agent=None).pk == merged.pk


def test_it_gives_the_same_figures_to_prometheus(history, client, settings, alice):
    settings.METRICS_TOKEN = "scraper"
    page = figures.page_results()
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scraper").content.decode()
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value
           for family in text_string_to_metric_families(text) for s in family.samples}

    def value(name, period="30d", agent="", **labels):
        return got.get((name, tuple(sorted({"period": period, "agent": agent, **labels}.items()))))

    total, alices = page.total, dict(page.agents)[alice]
    assert value("colis_results_colis_per_agent_hour") == pytest.approx(7 * 3600 / 2370)
    assert value("colis_results_save_ms", quantile="0.5") == pytest.approx(total.save_p50)
    assert value("colis_results_save_ms", quantile="0.95") == pytest.approx(total.save_p95)
    assert value("colis_results_save_to_completed_seconds", stat="avg") == pytest.approx(590 / 8)
    assert value("colis_results_backend_seconds", stat="p95") == pytest.approx(total.backend_p95)
    assert value("colis_results_photo_failure_ratio") == 0.25
    assert value("colis_results_sync_error_ratio") == pytest.approx(1 / 60)
    assert value("colis_results_colis_per_agent_hour", agent="alice") == pytest.approx(
        alices.colis_per_hour)
    # Today: nothing saved, so no figure at all rather than a zero that would read as a fact.
    assert value("colis_results_save_ms", period="today", quantile="0.5") is None
    met = {labels: v for (name, labels), v in got.items() if name == "colis_results_target_met"}
    assert {dict(k)["figure"]: v for k, v in met.items()
            if dict(k)["period"] == "30d" and dict(k)["agent"] == ""} == {
        "save": 1, "productivity": 0, "photos": 0, "errors": 1, "backend": 0}
    assert got["colis_results_target", (("figure", "productivity"),
                                        ("metric", "colis_results_colis_per_agent_hour"),
                                        ("rule", ">= target"))] == 50


def _block(page: str, start: str) -> str:
    return page.split(start)[1].split("</section>")[0]


def test_it_shows_an_agent_on_the_board_their_row_of_the_page(history, alice, bob, charlie):
    """« Mes tâches » shows the agent's row of « Résultats », read and rounded the same way;
    a brand-new agent, that they have done nothing yet."""
    page = web(charlie).get("/resultats/").content.decode()
    row = page.split('data-agent="alice"')[1].split("</tr>")[0]
    cells = [c.split("<")[0].strip() for c in row.split('">')[1:] if "data-label" not in c]
    board = _block(web(alice).get("/taches/").content.decode(), 'id="my-results"')
    shown = [b.split("</b>")[0] for b in board.split("<b>")[1:]]
    # colis, hours, per hour, save p50 / p95, save to completed, backend, photos
    assert shown == ["5", "0,63 h", "7,9", "350 ms / 875 ms", "45,0 s", "35,0 s", "33,3 %"]
    for figure in shown:
        assert figure in _text(row), (figure, cells)
    # each figure with a target: the target beside it, met or not, as on the page
    judged = {figure: _text(li) for figure, li in
              re.findall(r'data-figure="(\w+)">(.*?)</li>', board, re.S)}
    assert judged == {
        "productivity": "7,9 Colis par heure-agent (Objectif ≥ 50) non atteint",
        "save": "350 ms / 875 ms Saisie p50 / p95 (Objectif < 2,0 s) atteint",
        "backend": "35,0 s Traitement serveur, moyenne (Objectif ≤ 45 s) atteint",
        "photos": "33,3 % Échecs photo (Objectif < 2 %) non atteint"}
    english = _text(_block(web(alice).get("/taches/", HTTP_ACCEPT_LANGUAGE="en").content
                           .decode(), 'id="my-results"'))
    assert "(Target ≥ 50) not met" in english and "(Target < 2.0 s) met" in english
    newcomer = make_user("dina", "agent_chine")
    for lang, words in (("fr", "Aucune activité."), ("en", "No activity."), ("zh-hans", "无活动。")):
        client = web(newcomer)
        client.cookies["django_language"] = lang
        block = _block(client.get("/taches/", HTTP_ACCEPT_LANGUAGE=lang).content.decode(),
                       'id="my-results"')
        assert words in block and "<b>" not in block and "—" not in block


def test_it_gives_the_save_time_over_several_days_exactly(alice, bob, cargo_lot, client_row):
    """Saves on two days: the 30 days' p50 and p95, and each agent's, are the percentiles
    of every save, not of the days' buckets or an average of the days'."""
    h = History(cargo_lot, client_row)
    for ms in (1001, 1003, 1010):
        h.save(alice, at(3, 9), backend=1, save_ms=ms)
    for ms in (1002, 1004, 5000):
        h.save(alice, at(1, 9), backend=1, save_ms=ms)
    h.save(bob, at(1, 10), backend=1, save_ms=1999)
    page = figures.page_results()
    # 1001 1002 1003 1004 1010 1999 5000: p50 the 4th; p95 at rank 5.7 of 0–6: 1999 + 0.7 × 3001
    assert (page.total.save_p50, page.total.save_p95) == (1004, pytest.approx(4099.7))
    alice_row = dict(page.agents)[alice]
    # 1001 1002 1003 1004 1010 5000: p50 at rank 2.5, p95 at 4.75
    assert (alice_row.save_p50, alice_row.save_p95) == (1003.5, pytest.approx(4002.5))
    live = figures.results()
    assert (live.total.save_p50, live.total.save_p95) == (1004, pytest.approx(4099.7))
    block = _block(web(alice).get("/taches/").content.decode(), 'id="my-results"')
    assert "<b>1004 ms / 4,0 s</b>" in block  # 1003.5 rounds half up


def test_it_measures_durations_to_the_microsecond(alice, cargo_lot, client_row):
    """0.6 ms of backend and 0.4004 s between two saves: SQLite's julianday keeps the
    millisecond only; the figures are the same to the microsecond on both databases."""
    h = History(cargo_lot, client_row)
    first = at(1, 9) + timedelta(microseconds=250)
    h.save(alice, first, backend=0.0006, save_ms=100)
    h.save(alice, first + timedelta(seconds=0.4004), backend=0.0012, save_ms=100)
    for data in (figures.results(), figures.page_results()):
        day = _day(data, 1)
        assert day.backend_avg == pytest.approx(0.0009, abs=1e-7)
        assert day.took_avg == pytest.approx(10.0009, abs=1e-7)
        assert day.active_s == pytest.approx(60.4004, abs=1e-7)
        assert day.backend_p95 == pytest.approx(0.00117, abs=1e-7)


def test_it_rounds_half_up_on_the_page_and_in_the_exports(alice, charlie, cargo_lot, client_row):
    """Half up, never to even: 100.5 ms is 101 ms, 2.25 s is 2.3 s, 0.125 is 0.13."""
    from openpyxl import load_workbook

    from server.web.templatetags.results_extras import millis, number, percent
    from server.web.templatetags.web_extras import duration

    h = History(cargo_lot, client_row)
    h.save(alice, at(1, 9), backend=2.25, save_ms=100)
    h.save(alice, at(1, 9, 1), backend=2.25, save_ms=101)
    with translation.override("fr"):
        assert (number(0.125, 2), number(2.5, 0), percent(0.00125, 2), millis(2.5)) == (
            "0,13", "3", "0,13 %", "3 ms")
        assert (seconds(2.25), seconds(0.05, 1), duration(2.5), duration(3.5)) == (
            "2,3 s", "0,1 s", "3 s", "4 s")
    page = web(charlie).get("/resultats/").content.decode()
    row = page.split('data-agent="alice"')[1].split("</tr>")[0]
    assert "101 ms" in row and "2,3 s" in row and "12,3 s" in row
    sheet = load_workbook(io.BytesIO(web(charlie).get("/resultats/resultats.xlsx").content)).active
    alice_row = next(r for r in ([c.value for c in row] for row in sheet.iter_rows())
                     if r[1] == "alice")
    assert alice_row[7] == 101  # save p50: 100.5
    body = web(charlie).get("/resultats/resultats.csv").content.decode("utf-8-sig")
    alice_csv = next(r for r in csv.reader(io.StringIO(body), delimiter=";") if r[1] == "alice")
    assert alice_csv[7] == "101"


def test_it_writes_names_that_look_like_formulas_as_text_in_the_xlsx(history, charlie):
    from openpyxl import load_workbook

    names = ["=cmd|'/c calc'!A1", "+1+1", "-2+3", "@SUM(A1)"]
    for name in names:
        history.save(make_user(name, "agent_chine"), at(1, 9), backend=5, save_ms=700)
    sheet = load_workbook(io.BytesIO(web(charlie).get("/resultats/resultats.xlsx").content)).active
    cells = {c.value: c.data_type for c in sheet["B"]}
    for name in names:
        assert cells[name] == "s", name  # a string, as typed: never a formula


@pytest.mark.parametrize("lang, words", [
    ("fr", "à l'heure de Asia/Shanghai"), ("en", "Asia/Shanghai time"),
    ("zh-hans", "按 Asia/Shanghai 时间")])
def test_it_says_in_which_time_zone_days_are_counted(charlie, settings, lang, words):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    client = web(charlie)
    client.cookies["django_language"] = lang
    assert words in client.get("/resultats/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()


def test_it_judges_each_target_on_its_figure_as_shown(alice, charlie, cargo_lot, client_row):
    """A badge never contradicts the value beside it: 1 999,5 ms shows « 2,0 s », not met
    against « < 2,0 s »; 49,96 colis an hour shows « 50,0 », met."""
    def met(**counts):
        return figures.Figures(**counts).met

    assert met(save_p50=1999.4)["save"] and not met(save_p50=1999.5)["save"]
    assert met(colis=4996, active_s=360_000)["productivity"]  # 49.96
    assert not met(colis=4994, active_s=360_000)["productivity"]  # 49.94: « 49,9 »
    assert met(photos=1000, photos_failed=19)["photos"]  # 1,9 %
    assert not met(photos=10_000, photos_failed=196)["photos"]  # 1,96 %: « 2,0 % »
    assert not met(requests=100_000, server_errors=1_995)["errors"]  # 1,995 %: « 2,00 % »
    assert met(backend_sum=45.04, backend_n=1)["backend"]  # « 45,0 s »
    assert not met(backend_sum=45.05, backend_n=1)["backend"]  # « 45,1 s »
    h = History(cargo_lot, client_row)
    h.save(alice, at(1, 9), backend=5, save_ms=1999)
    h.save(alice, at(1, 9, 1), backend=5, save_ms=2000)
    page = web(charlie).get("/resultats/").content.decode()
    row = page.split('data-agent="alice"')[1].split("</tr>")[0]
    assert "2,0 s / 2,0 s" in _text(row) and "non atteint" in row
    rows = list(csv.reader(io.StringIO(web(charlie).get("/resultats/resultats.csv").content
                                       .decode("utf-8-sig")), delimiter=";"))
    alice_csv = next(r for r in rows if r[1] == "alice")
    assert alice_csv[7:9] == ["2000", "non atteint"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_the_sweeper_keeps_the_figures_fresh_with_no_one_looking(alice, cargo_lot, client_row,
                                                                 redis_clean):
    """After a quiet afternoon the first visit shows figures at most REFRESH old, not those
    of the previous visit: the sweeper refreshes the days in a job, visited or not."""
    from sync.sweeper import sweep

    h = History(cargo_lot, client_row)
    later, yesterday = _later_and_its_yesterday()
    h.save(alice, _at(yesterday, 9), backend=5, save_ms=100)
    assert sweep()["results_refreshed"] == 30  # a new install: every day, there and then
    assert _on(figures.page_results(), yesterday).saves == 1
    h.save(alice, _at(yesterday, 10), backend=5, save_ms=300)
    assert sweep()["results_refreshed"] == 0  # computed less than REFRESH ago
    # yesterday and today, queued (a new day after midnight: computed there and then)
    assert set(figures.keep_fresh(later)) == set(figures._calendar(later)[-2:])
    run_burst("colis")
    assert _on(figures.page_results(now=later), yesterday).saves == 2  # the first visit: fresh


def test_it_sees_a_late_save_of_yesterday_that_arrived_before_midnight(
        alice, cargo_lot, client_row, inline_jobs):
    """Yesterday refreshed at 23:57, today at 23:59, and between the two a save of
    yesterday's arrives: once midnight has settled yesterday, its change is still seen."""
    tonight = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=1),
                                                   time()))
    yesterday = timezone.localdate() - timedelta(days=1)
    h = History(cargo_lot, client_row)
    h.save(alice, at(1, 9), backend=5, save_ms=100)
    figures.page_results(now=tonight - timedelta(minutes=10))
    figures.refresh_day(yesterday, tonight - timedelta(minutes=3))
    late = h.save(alice, at(1, 10), backend=5, save_ms=100)
    ColisTask.objects.filter(pk=late.pk).update(created_at=tonight - timedelta(minutes=2),
                                                completed_at=tonight - timedelta(minutes=2))
    figures.refresh_day(timezone.localdate(), tonight - timedelta(minutes=1))
    after = tonight + timedelta(minutes=1)  # yesterday is two days ago: settled
    assert yesterday in figures.refresh_due(figures._calendar(after), after)
    page = figures.page_results(now=after + timedelta(seconds=1))
    assert _on(page, yesterday).saves == 2


def test_a_refresh_of_an_older_claim_leaves_a_newer_one_standing(history, alice):
    """Two jobs of one day, the older one last: the rows of the newer one stand."""
    day = timezone.localdate() - timedelta(days=3)
    figures.page_results()
    newer = timezone.now() + timedelta(minutes=6)
    history.save(alice, at(3, 16), backend=5, save_ms=100)
    figures.refresh_day(day, newer)  # sees the new save
    figures.refresh_day(day, newer - timedelta(minutes=1))  # the older job, run last
    rows = figures.ResultDay.objects.filter(day=day)
    assert set(rows.values_list("computed_at", flat=True)) == {newer}
    assert rows.get(agent=None).saves == 7


@pytest.mark.django_db(transaction=True)
def test_it_gives_back_a_claim_whose_job_redis_refused(history, settings, monkeypatch):
    """Redis down when a stale day is claimed: the claim is given back, so that the day is
    due again at the next pass rather than left behind a claim no job will ever run."""
    import redis
    from rq import Queue

    from sync import enqueue
    from tests.security_helpers import free_port

    settings.COLIS_ASYNC = True
    figures.page_results()
    before = dict(figures.ResultDay.objects.filter(agent=None).values_list("day", "computed_at"))
    nowhere = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    monkeypatch.setattr(enqueue, "queue", lambda name: Queue(name, connection=nowhere))
    later = timezone.now() + figures.REFRESH + timedelta(seconds=1)
    new_day = set(figures._calendar(later)) - set(before)  # past midnight: computed here
    assert set(figures.keep_fresh(later)) == new_day
    after = dict(figures.ResultDay.objects.filter(agent=None, day__in=before)
                 .values_list("day", "computed_at"))
    assert after == before
    monkeypatch.undo()  # Redis back: the next pass claims them again
    assert set(figures.keep_fresh(later)) == set(figures._calendar(later)[-2:]) - new_day
