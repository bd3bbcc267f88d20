"""Fault drills, the short ones: break the link, workers, Redis or the web process while a
device syncs, then count: one colis per op_id the device holds, none lost, none doubled.
The long versions, with PostgreSQL restarted too, are `python -m bench.run drills`."""

import pytest

from bench.drills import (
    Device,
    audit,
    kill_workers,
    link_cuts,
    monitor_once,
    new_item,
    resends,
    wait_completed,
)
from server.accounts.models import Device as DeviceRow
from tests.workers import child_env, flush_redis, run_burst, start_worker, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
FAST_RETRY = {"RETRY_BACKOFF": "1"}  # a job that lost a deadlock retries within the test


@pytest.fixture
def device(live_server, alice, tariffs) -> Device:
    return Device(live_server.url, DeviceRow.issue(alice, "tablette drill")[1])


def assert_nothing_lost_or_doubled(device: Device, alice) -> None:
    ops = set(device.items)
    result = audit(ops, alice.pk)
    assert device.acked == ops
    assert (result["lost"], result["duplicated"]) == (0, 0), result
    assert result["colis"] == len(ops)


def test_it_loses_and_doubles_nothing_when_the_link_is_cut_anywhere(
        device, alice, client_row, cargo_lot, redis_clean):
    worker = start_worker(**FAST_RETRY)
    try:
        link_cuts(device, client_row.pk, cargo_lot.pk, syncs=30, batch=3)
        wait_completed(set(device.items), sweep_every=2)
    finally:
        stop(worker)
    assert device.cuts > 15
    assert_nothing_lost_or_doubled(device, alice)


def test_it_records_a_batch_once_when_resent_in_a_row_and_at_once(
        device, alice, client_row, cargo_lot, redis_clean):
    info = resends(device, client_row.pk, cargo_lot.pk, times=5, batch=10)
    assert info["distinct_task_ids"] == 20
    run_burst()
    assert_nothing_lost_or_doubled(device, alice)


def test_it_makes_each_colis_once_when_workers_are_killed_mid_job(
        device, alice, client_row, cargo_lot, redis_clean):
    kills = kill_workers(lambda **env: start_worker("colis", **env, **FAST_RETRY), device,
                         client_row.pk, cargo_lot.pk, kills=3, count=6, env=child_env())
    assert kills == 3
    run_burst()
    wait_completed(set(device.items), timeout=60)
    assert_nothing_lost_or_doubled(device, alice)


def test_it_completes_every_task_when_redis_lost_its_data(
        device, alice, client_row, cargo_lot, redis_clean):
    device.sync([new_item(client_row.pk, cargo_lot.pk) for _ in range(10)])
    flush_redis()  # the shared test Redis: restarted empty, as far as the jobs know
    monitor_once(child_env())
    run_burst()
    assert_nothing_lost_or_doubled(device, alice)


def test_it_loses_and_doubles_nothing_when_the_web_process_is_killed(
        alice, tariffs, client_row, cargo_lot, redis_clean):
    import os
    import signal
    import time

    from bench.drills import _children, _steady_sync
    from bench.env import start_web

    web, base = start_web(child_env(), workers=1, threads=4)
    try:
        device = Device(base, DeviceRow.issue(alice, "tablette drill")[1])
        threads = _steady_sync(2, device, client_row.pk, cargo_lot.pk,
                               time.monotonic() + 6, batch=10)
        for _ in range(3):
            time.sleep(1.5)
            for pid in _children(web.pid):
                os.kill(pid, signal.SIGKILL)
        for t in threads:
            t.join(120)
    finally:
        stop(web)
    monitor_once(child_env())  # a kill between commit and enqueue leaves tasks pending, no job
    run_burst()
    assert_nothing_lost_or_doubled(device, alice)
