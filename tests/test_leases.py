"""Numéros de suivi leased to tablets: taken from the one counter, sized on use, refilled
during sync, accepted only from the device's own active lease and only once, voided when
the device is revoked."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from server.accounts.models import Device
from server.cargo import leases, numbering, services
from server.cargo.models import Colis, NumeroLease
from sync.models import ColisTask
from tests.conftest import codes, device_client, item
from tests.test_numbering import _in_threads

DEC_31 = datetime(2026, 12, 31, 3, 0, tzinfo=UTC)  # 11:00 in the warehouses (UTC+8)
JAN_1 = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)


def numeros(lease: NumeroLease) -> list[str]:
    return [numbering.format_numero_suivi(lease.year, s) for s in range(lease.first, lease.last + 1)]


@pytest.fixture
def inline(inline_jobs, django_capture_on_commit_callbacks):
    """Jobs run in the request, on commit: the answer shows the colis made."""
    return django_capture_on_commit_callbacks


def send(api, *items, inline=None):
    if inline is not None:
        with inline(execute=True):
            return send(api, *items)
    response = api.post("/api/v1/sync/", {"items": list(items)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["items"]


def made(answer) -> str:
    """The numéro of the colis an accepted item made."""
    return ColisTask.objects.select_related("colis").get(op_id=answer["op_id"]).colis.numero_suivi


def test_it_leases_a_range_of_the_servers_own_sequence(alice_api):
    before = numbering.next_numero_suivi()
    lease = leases.lease(alice_api.device, 100)
    after = numbering.next_numero_suivi()
    year, seq = numbering.parse_numero_suivi(before)
    assert (lease.year, lease.first, lease.last) == (year, seq + 1, seq + 100)
    assert numbering.parse_numero_suivi(after) == (year, seq + 101)
    assert lease.first_numero == numeros(lease)[0] and lease.last_numero == numeros(lease)[-1]
    assert all(numbering.is_valid_numero_suivi(n) for n in numeros(lease))


@pytest.mark.django_db(transaction=True)
def test_it_never_overlaps_two_devices_leasing_at_once(django_user_model):
    agent = django_user_model.objects.create_user("zhang", password="x", role="agent_chine")
    devices = [Device.issue(agent, f"tablette {i}")[0] for i in range(8)]
    pending = list(devices)

    def take():
        lease = leases.lease(pending.pop(), 100)
        return lease.year, lease.first, lease.last

    results, errors = _in_threads(8, take)
    server, server_errors = _in_threads(8, numbering.next_numero_suivi)
    assert errors == [] and server_errors == []
    taken = [(y, s) for y, first, last in results for s in range(first, last + 1)]
    taken += [numbering.parse_numero_suivi(n) for n in server]
    assert len(taken) == 8 * 100 + 8 and len(set(taken)) == len(taken)
    assert NumeroLease.objects.values("device").distinct().count() == 8


def test_it_sizes_a_block_on_the_busiest_day_with_a_floor(alice_api, colis_data, redis_clean):
    device = alice_api.device
    assert leases.block_size(device) == leases.FLOOR
    two_days_ago = (timezone.now() - timedelta(days=2)).isoformat()
    batch = [{**item(**colis_data), "saved_at": two_days_ago} for _ in range(50)]
    batch += [{**item(**colis_data), "saved_at": two_days_ago} for _ in range(25)]
    send(alice_api, *batch[:50])
    send(alice_api, *batch[50:])
    send(alice_api, item(**colis_data))  # today: one
    assert leases.busiest_day(device) == 75
    assert leases.block_size(device) == 150
    old = [{**item(**colis_data)} for _ in range(100)]
    send(alice_api, *old[:50])
    send(alice_api, *old[50:])
    ColisTask.objects.filter(op_id__in=[i["op_id"] for i in old]).update(
        saved_at=timezone.now() - timedelta(days=leases.WINDOW_DAYS + 1))
    assert leases.block_size(device) == 150  # a busy day long ago no longer counts


def test_it_refills_only_below_half_a_block_and_not_for_ever(alice_api):
    device = alice_api.device
    assert leases.refill(device, left=50) is None
    first = leases.refill(device, left=49)
    assert first is not None and first.size == leases.FLOOR
    leases.refill(device, left=0)
    leases.refill(device, left=0)
    assert leases.refill(device, left=0) is None  # three unused blocks out: enough
    assert NumeroLease.objects.filter(device=device).count() == leases.MAX_BLOCKS_OUTSTANDING


def test_it_answers_the_tablets_leases_over_the_api(alice_api, alice):
    answer = alice_api.post("/api/v1/leases/", {"left": 0}, format="json").json()
    assert answer["block"] == leases.FLOOR
    [lease] = answer["leases"]
    assert lease["unused"] == 100 and lease["last"] - lease["first"] == 99
    assert numbering.is_valid_numero_suivi(lease["first_numero"])
    assert alice_api.get("/api/v1/leases/").json()["leases"] == answer["leases"]
    again = alice_api.post("/api/v1/leases/", {"left": 100}, format="json").json()
    assert again["leases"] == answer["leases"]  # enough left: nothing new
    for bad in (-1, "3", None, True, 2**31):
        assert alice_api.post("/api/v1/leases/", {"left": bad}, format="json").status_code == 400


def test_it_leases_to_tablets_only(client, alice, charlie_api):
    client.force_login(alice)
    assert client.post("/api/v1/leases/", {"left": 0}, content_type="application/json"
                       ).status_code == 403  # a session has no device
    assert charlie_api.post("/api/v1/leases/", {"left": 0}, format="json").status_code == 403
    assert NumeroLease.objects.count() == 0


def test_it_accepts_a_numero_of_the_devices_own_lease_once(alice_api, colis_data, tariffs,
                                                           inline, redis_clean):
    lease = leases.lease(alice_api.device, 100)
    first, second = numeros(lease)[:2]
    [answer] = send(alice_api, item(**colis_data, numero_suivi=second), inline=inline)
    assert answer["result"] == "accepted"
    assert made(answer) == second
    [again] = send(alice_api, item(**colis_data, numero_suivi=second), inline=inline)
    assert again["result"] == "invalid"
    assert codes(again["error_codes"]) == {"numero_suivi": ["numero_used"]}
    twice = send(alice_api, item(**colis_data, numero_suivi=first),
                 item(**colis_data, numero_suivi=first), inline=inline)
    assert [a["result"] for a in twice] == ["accepted", "invalid"]
    assert codes(twice[1]["error_codes"]) == {"numero_suivi": ["numero_used"]}
    assert Colis.objects.filter(numero_suivi__in=[first, second]).count() == 2


def test_it_counts_a_numero_on_a_live_task_as_used(alice_api, colis_data, redis_clean):
    lease = leases.lease(alice_api.device, 100)
    numero = numeros(lease)[0]
    assert send(alice_api, item(**colis_data, numero_suivi=numero))[0]["result"] == "accepted"
    [again] = send(alice_api, item(**colis_data, numero_suivi=numero))  # not materialised yet
    assert codes(again["error_codes"]) == {"numero_suivi": ["numero_used"]}
    # A task that ended without its colis (cancelled) gives its numéro back to its device.
    ColisTask.objects.update(status="cancelled")
    assert send(alice_api, item(**colis_data, numero_suivi=numero))[0]["result"] == "accepted"


@pytest.mark.parametrize("case", ["other_device", "voided", "malformed", "check_digit",
                                  "not_leased", "not_text"])
def test_it_refuses_a_numero_not_leased_to_the_device(alice_api, bob, colis_data, case,
                                                      redis_clean):
    other = device_client(bob)
    mine, theirs = leases.lease(alice_api.device, 10), leases.lease(other.device, 10)
    numero = {
        "other_device": numeros(theirs)[0],
        "voided": numeros(mine)[0],
        "malformed": "CS26-12-3",
        "check_digit": numeros(mine)[0][:-1] + str((int(numeros(mine)[0][-1]) + 1) % 10),
        "not_leased": numbering.next_numero_suivi(),
        "not_text": 260000011,
    }[case]
    if case == "voided":
        leases.void([alice_api.device])  # as its revoking does (see below)
    [answer] = send(alice_api, item(**colis_data, numero_suivi=numero))
    assert answer["result"] == "invalid"
    assert codes(answer["error_codes"]) == {"numero_suivi": ["numero_not_leased"]}
    assert ColisTask.objects.count() == 0


def test_it_accepts_a_numero_taken_before_the_logout_from_the_next_login(alice, alice_api,
                                                                       colis_data, redis_clean):
    lease = leases.lease(alice_api.device, 10)
    before = (timezone.now() - timedelta(minutes=5)).isoformat()
    alice_api.device.revoke()  # logged out: the queue stays on the tablet
    again = device_client(alice, "tablette")  # the same agent logs in again: a new device
    after = (timezone.now() + timedelta(seconds=1)).isoformat()
    taken, late = numeros(lease)[:2]
    answers = send(again, {**item(**colis_data, numero_suivi=taken), "saved_at": before},
                   {**item(**colis_data, numero_suivi=late), "saved_at": after})
    assert [a["result"] for a in answers] == ["accepted", "invalid"]
    assert codes(answers[1]["error_codes"]) == {"numero_suivi": ["numero_not_leased"]}


def test_it_judges_a_numero_by_its_receipt_when_its_save_time_is_not_believed(
        alice, alice_api, colis_data, redis_clean):
    lease = leases.lease(alice_api.device, 10)
    alice_api.device.revoke()
    again = device_client(alice, "tablette")
    long_ago = "1970-01-01T00:00:00Z"  # a clock reset: not a save before the logout
    [answer] = send(again, {**item(**colis_data, numero_suivi=numeros(lease)[0]),
                            "saved_at": long_ago})
    assert answer["result"] == "invalid"
    assert codes(answer["error_codes"]) == {"numero_suivi": ["numero_not_leased"]}
    [answer] = send(again, {**item(**colis_data), "saved_at": long_ago})  # not numbered
    assert answer["result"] == "accepted"


def test_it_still_numbers_a_colis_sent_without_a_numero(alice_api, colis_data, tariffs,
                                                        inline, redis_clean):
    leases.lease(alice_api.device, 100)
    [answer] = send(alice_api, item(**colis_data), inline=inline)
    numero = made(answer)
    assert numbering.parse_numero_suivi(numero)[1] == 101  # after the lease, from the server


def test_it_numbers_a_batch_with_leased_and_server_numeros(alice, alice_api, colis_data):
    lease = leases.lease(alice_api.device, 10)
    a, b = numeros(lease)[:2]
    lot = services.Lot.objects.get(pk=colis_data["lot"])
    made = services.create_colis_many([
        (alice, {**colis_data, "numero_suivi": a}, lot), (alice, colis_data, lot),
        (alice, {**colis_data, "numero_suivi": b}, lot), (alice, {**colis_data, "numero_suivi": a}, lot)])
    assert [m.numero_suivi for m in made[:3]] == [a, numbering.format_numero_suivi(lease.year, 11), b]
    assert codes(made[3].errors) == {"numero_suivi": ["numero_used"]}
    with pytest.raises(services.InvalidData) as refused:
        services.create_colis(alice, {**colis_data, "numero_suivi": b})
    assert codes(refused.value.errors) == {"numero_suivi": ["numero_used"]}


def test_it_leases_from_each_years_sequence(alice_api, colis_data, tariffs, inline,
                                            redis_clean):
    device = alice_api.device
    old = leases.lease(device, 100, now=DEC_31)
    new = leases.lease(device, 100, now=JAN_1)
    assert old.first_numero.startswith("CS26-") and new.first_numero == numbering.format_numero_suivi("27", 1)
    assert numbering.next_numeros_suivi(1, now=JAN_1) == [numbering.format_numero_suivi("27", 101)]
    assert numbering.next_numeros_suivi(1, now=DEC_31)[0].startswith("CS26-")
    # A numéro of last year's lease, still unused on the tablet, is good after New Year.
    answers = send(alice_api, item(**colis_data, numero_suivi=numeros(old)[5]),
                   item(**colis_data, numero_suivi=numeros(new)[5]), inline=inline)
    assert [made(a) for a in answers] == [numeros(old)[5], numeros(new)[5]]


def test_it_voids_the_leases_of_a_revoked_device(alice, alice_api):
    device = alice_api.device
    leases.lease(device, 100)
    assert leases.unused_by_device([device.pk]) == {device.pk: 100}
    device.revoke()
    assert NumeroLease.objects.get().voided_at is not None
    assert leases.unused_by_device([device.pk]) == {}
    other = device_client(alice)
    leases.lease(other.device, 100)
    alice.set_password("a new one")
    alice.save()  # every tablet of hers logs in again: their leases go too
    assert not NumeroLease.objects.filter(voided_at__isnull=True).exists()


def test_it_shows_each_devices_unused_numeros_on_supervision(client, charlie, alice, alice_api,
                                                             colis_data):
    lease = leases.lease(alice_api.device, 100)
    services.create_colis(alice, {**colis_data, "numero_suivi": numeros(lease)[0]})
    client.force_login(charlie)
    page = client.get("/supervision/").content.decode()
    assert "Numéros libres" in page
    assert '<td class="num device-numeros">99</td>' in page


def test_it_leases_an_agent_ten_blocks_a_day_at_most(alice, alice_api, bob_api):
    """One login holds three unused blocks at most; logging in again for a fresh device
    each time must not drain the sequence either."""
    api = alice_api
    for n in range(leases.MAX_BLOCKS_PER_DAY):
        if n and n % leases.MAX_BLOCKS_OUTSTANDING == 0:  # this login holds all it may
            api = device_client(alice, "tablette")
        assert api.post("/api/v1/leases/", {"left": 0}, format="json").status_code == 200
    assert NumeroLease.objects.filter(device__user=alice).count() == leases.MAX_BLOCKS_PER_DAY
    api = device_client(alice, "tablette")
    refused = api.post("/api/v1/leases/", {"left": 0}, format="json",
                       HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 429 and refused.json()["code"] == "lease_limit"
    assert "Trop de blocs" not in refused.json()["detail"]
    assert api.get("/api/v1/leases/").json()["leases"] == []
    assert bob_api.post("/api/v1/leases/", {"left": 0}, format="json").status_code == 200
    NumeroLease.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert api.post("/api/v1/leases/", {"left": 0}, format="json").status_code == 200
