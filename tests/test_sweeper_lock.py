"""One sweeper at a time: a Redis lock (SET NX, expiring), renewed every pass."""

import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.management import call_command

from sync import health
from sync.sweeper import Lease
from tests.workers import ROOT, child_env, wait_for


def test_it_lets_one_sweeper_hold_the_lock_until_it_lets_go(db, redis_clean):
    first, second = Lease(ttl=30), Lease(ttl=30)
    assert first.hold() and not second.hold()
    assert first.hold()  # renewed, still its own
    assert second.holder() == first.token and first.token.startswith(f"{settings.NODE_NAME}:")
    first.release()
    assert second.hold() and not first.hold()


def test_it_renews_the_lock_every_pass_and_frees_it_when_the_holder_dies(db, redis_clean):
    first, second = Lease(ttl=2), Lease(ttl=2)
    assert first.hold()
    for _ in range(3):  # passes more than the lock's life apart in all, each one renewing it
        time.sleep(1)
        assert first.hold() and not second.hold()
    assert 1 < health.redis().pttl(Lease.KEY) / 1000 <= 2
    time.sleep(2.2)  # the holder stopped renewing (killed): the lock expires
    assert second.hold() and not first.hold()


def test_it_skips_the_pass_and_says_so_while_another_sweeper_holds_the_lock(db, redis_clean,
                                                                            capsys, caplog):
    other = Lease(ttl=30)
    assert other.hold()
    with caplog.at_level("WARNING", logger="colis.sweeper"):
        call_command("monitor_sync", "--once")
    out = capsys.readouterr().out
    assert f"another sweeper holds the lock ({other.token})" in out and "requeued" not in out
    assert any("pass skipped" in r.message for r in caplog.records)
    assert health.report()["sweeper"] is None  # it did not sweep
    other.release()
    call_command("monitor_sync", "--once")
    assert "requeued" in capsys.readouterr().out
    assert not health.redis().exists(Lease.KEY)  # --once lets go when done


@pytest.mark.django_db(transaction=True)
def test_it_runs_two_sweeper_processes_with_one_sweeping(redis_clean, tmp_path):
    names = ["node-a", "node-b"]
    logs = [tmp_path / f"{name}.log" for name in names]
    procs = [subprocess.Popen([sys.executable, "manage.py", "monitor_sync", "--interval", "1"],
                              cwd=ROOT, env=child_env(NODE_NAME=name),
                              stdout=log.open("w"), stderr=subprocess.STDOUT)
             for name, log in zip(names, logs, strict=True)]
    try:
        wait_for(lambda: health.report()["sweeper"], timeout=60)
        sweeping = names.index(health.report()["sweeper"]["node"])
        other = 1 - sweeping
        wait_for(lambda: f"another sweeper holds the lock ({names[sweeping]}:" in
                 logs[other].read_text(), timeout=30)
        procs[sweeping].terminate()  # SIGTERM: the lock is freed at once, not in 60 s
        wait_for(lambda: health.report()["sweeper"]["node"] == names[other], timeout=15)
        assert "lock taken, sweeping" in logs[other].read_text()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
