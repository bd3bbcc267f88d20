import time

from django.conf import settings
from django.core.management.base import BaseCommand

from sync.sweeper import sweep


class Command(BaseCommand):
    help = "Sweep the sync pipeline: re-enqueue lost jobs, recover stuck tasks, run due retries."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=int, default=settings.SWEEP_INTERVAL)
        parser.add_argument("--grace", type=int, default=None,
                            help="seconds a pending task waits before it counts as lost")
        parser.add_argument("--stuck-after", type=int, default=None,
                            help="seconds without heartbeat before a running task is recovered")

    def handle(self, *args, once=False, interval=10, grace=None, stuck_after=None, **options):
        while True:
            summary = sweep(grace=grace, stuck_after=stuck_after)
            if once or any(v for k, v in summary.items() if k != "alerts"):
                self.stdout.write(str(summary))
            if once:
                return
            time.sleep(interval)
