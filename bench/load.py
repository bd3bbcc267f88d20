"""Closed-loop load: C clients (threads), each sending its requests back to back."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Run:
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies)


def hammer(clients: int, per_client: int, send: Callable[[int, int], int]) -> Run:
    """Run send(client, n) per_client times in each of `clients` threads; send returns the
    HTTP status. Latency is measured around each call; wall from start to the last answer."""
    run = Run()
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def worker(c: int) -> None:
        barrier.wait()
        for n in range(per_client):
            t0 = time.perf_counter()
            try:
                code = send(c, n)
            except Exception as exc:  # noqa: BLE001 - counted, reported
                code = -1
                with lock:
                    run.errors.append(repr(exc)[:200])
            dt = time.perf_counter() - t0
            with lock:
                run.latencies.append(dt)
                run.statuses[code] = run.statuses.get(code, 0) + 1

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(600)
    run.wall = time.perf_counter() - t0
    return run
