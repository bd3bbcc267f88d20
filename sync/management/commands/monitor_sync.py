import logging
import signal
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from redis.exceptions import RedisError

from sync.sweeper import Lease, sweep

log = logging.getLogger("colis.sweeper")


class Command(BaseCommand):
    help = ("Sweep the sync pipeline: re-enqueue lost jobs, recover stuck tasks, run due retries. "
            "One sweeper at a time: another one waits for the lock.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=int, default=settings.SWEEP_INTERVAL)
        parser.add_argument("--grace", type=int, default=None,
                            help="seconds a pending task waits before it counts as lost")
        parser.add_argument("--stuck-after", type=int, default=None,
                            help="seconds without heartbeat before a running task is recovered")

    def handle(self, *args, once=False, interval=10, grace=None, stuck_after=None, **options):
        # The lock outlives a few passes, so a slow pass keeps it; a dead sweeper's frees itself.
        lease = Lease(ttl=max(settings.SWEEPER_LOCK_TTL, 3 * interval))
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped: free the lock at once
        waiting = False
        try:
            while True:
                waiting = self.pass_once(lease, waiting, grace, stuck_after, once)
                if once:
                    return
                time.sleep(interval)
        finally:
            lease.release()

    def pass_once(self, lease: Lease, waiting: bool, grace, stuck_after, once: bool) -> bool:
        """One pass if this sweeper holds the lock; whether it is left waiting for it."""
        try:
            held = lease.hold()
        except RedisError as exc:
            log.warning("sweeper: Redis unreachable, pass skipped (%s)", exc)
            return waiting
        if not held:
            if not waiting or once:  # said once, not every pass
                holder = lease.holder()
                log.warning("sweeper: another sweeper holds the lock (%s); %s", holder,
                            "pass skipped" if once else "waiting")
                self.stdout.write(f"another sweeper holds the lock ({holder})")
            return True
        if waiting:
            log.warning("sweeper: lock taken, sweeping")
        summary = sweep(grace=grace, stuck_after=stuck_after)
        if once or any(v for k, v in summary.items() if k != "alerts"):
            self.stdout.write(str(summary))
        return False
