"""Scenario 3, ingest: POST /api/v1/sync/ batches of 1, 50 and 200 items under gunicorn on
PostgreSQL (one web process, the Procfile's 4 threads), against the baseline's form POSTs,
without and with the 12 MP photo. No worker runs: this measures recording, not materialising.
"""

import json
import time

from . import photos, report
from .env import Stack
from .load import hammer
from .stats import median, percentile, ratio, spread, table

CLIENTS = 4  # concurrent devices, one per gunicorn thread


def _sync_runs(stack: Stack, base: str, size: int, reps: int, per_client: int) -> dict:
    import requests

    sessions = [requests.Session() for _ in range(CLIENTS)]
    for c, s in enumerate(sessions):
        s.headers.update({"Authorization": f"Token {stack.seed.tokens[c]}",
                          "Content-Type": "application/json"})

    def send(c: int, n: int) -> int:
        body = json.dumps({"items": [stack.seed.item(c) for _ in range(size)]})
        response = sessions[c].post(f"{base}/api/v1/sync/", data=body, timeout=120)
        if response.status_code == 200:
            assert all(i["result"] == "accepted" for i in response.json()["items"])
        return response.status_code

    hammer(CLIENTS, 2, send)  # warm-up: connections, caches
    return _collect([hammer(CLIENTS, per_client, send) for _ in range(reps)], size, stack)


def _baseline_runs(stack: Stack, base: str, reps: int, per_client: int, photo: bool) -> dict:
    import requests

    sessions = [requests.Session() for _ in range(CLIENTS)]
    for c, s in enumerate(sessions):
        s.headers["Authorization"] = f"Token {stack.seed.tokens[c]}"
    raw = photos.camera_jpeg() if photo else None

    def send(c: int, n: int) -> int:
        files = {"photo": ("IMG_0001.jpg", raw, "image/jpeg")} if raw else None
        response = sessions[c].post(f"{base}/baseline/colis/", data=stack.seed.form(c),
                                    files=files, timeout=300)
        return response.status_code

    hammer(CLIENTS, 1, send)
    return _collect([hammer(CLIENTS, per_client, send) for _ in range(reps)], 1, stack)


def _collect(runs, size: int, stack: Stack) -> dict:
    stack.flush_redis()  # the queued jobs are not what this scenario measures
    bad = sum(n for r in runs for code, n in r.statuses.items() if code != 200)
    return {"items_s": [r.requests * size / r.wall for r in runs],
            "p50": [percentile(r.latencies, 50) * 1000 for r in runs],
            "p95": [percentile(r.latencies, 95) * 1000 for r in runs],
            "requests": sum(r.requests for r in runs), "bad": bad}


def run(quick: bool = False) -> str:
    reps = 3 if quick else 5
    with Stack(agents=CLIENTS) as stack:
        base = stack.web(workers=1, threads=4)
        photos.camera_jpeg()
        t0 = time.monotonic()
        res = {
            "sync 1": _sync_runs(stack, base, 1, reps, 25 if quick else 60),
            "sync 50": _sync_runs(stack, base, 50, reps, 4 if quick else 8),
            "sync 200": _sync_runs(stack, base, 200, reps, 2 if quick else 3),
            "baseline, no photo": _baseline_runs(stack, base, reps, 10 if quick else 25, False),
            "baseline, 12 MP photo": _baseline_runs(stack, base, reps, 1 if quick else 2, True),
        }
        elapsed = time.monotonic() - t0
    return _write(res, reps, elapsed)


def _write(res: dict, reps: int, elapsed: float) -> str:
    plain, heavy = res["baseline, no photo"]["items_s"], res["baseline, 12 MP photo"]["items_s"]
    rows = []
    for name, r in res.items():
        rows.append([name, spread(r["items_s"]), spread(r["p50"]), spread(r["p95"]),
                     ratio(r["items_s"], plain), ratio(r["items_s"], heavy),
                     f"{r['requests']} / {r['bad']}"])
    best = max(median(res[k]["items_s"]) for k in ("sync 50", "sync 200"))
    md = f"""## 3. Ingest: POST /api/v1/sync/ vs the baseline's form POST

gunicorn `server.wsgi`, **one web process** with the Procfile's 4 threads, PostgreSQL,
{CLIENTS} devices posting back to back (closed loop), {reps} runs per row, no worker running
(jobs are queued, not materialised). A baseline POST registers one colis and does all the
work inside the request (validation, numbering, pricing, notification; with the photo also
the 3.3 MB upload and Pillow processing). Latencies are per HTTP request, in ms.

{table(["what", "items/s", "p50 ms", "p95 ms", "items/s vs baseline (no photo)",
        "items/s vs baseline (photo)", "requests / non-200"], rows)}

Target ≥ 1000 items/s per web process: **{"met" if best >= 1000 else "missed"}**
(best batch size: {best:.0f} items/s). Scenario wall time {elapsed:.0f} s.
"""
    report.write_section("ingest", md)
    return md
