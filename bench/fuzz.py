"""Fuzzing: schemathesis over every operation of our OpenAPI schema (/api/schema/) with a
device token, and hypothesis on batch envelopes and items, against gunicorn on PostgreSQL.
The verdict is the count of 5xx answers in gunicorn's access log: it must be 0."""

import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from . import report
from .env import VAR, Stack
from .stats import table


def _five_xx(log: Path, start: int) -> Counter:
    """(method path) → count of 5xx answers in the access log after byte `start`."""
    found: Counter = Counter()
    with open(log, "rb") as fh:
        fh.seek(start)
        for line in fh.read().decode(errors="replace").splitlines():
            m = re.search(r'"([A-Z]+) (\S+) HTTP/[\d.]+" (\d{3})', line)
            if m and m.group(3).startswith("5"):
                found[f"{m.group(1)} {m.group(2).split('?')[0]} → {m.group(3)}"] += 1
    return found


def _schemathesis(base: str, token: str, examples: int) -> dict:
    out = VAR / "schemathesis.txt"
    cmd = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{base}/api/schema/",
           "--url", base, "-H", f"Authorization: Token {token}", "-n", str(examples),
           "--checks", "not_a_server_error", "--request-timeout", "30", "--seed", "8",
           "--no-color"]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    out.write_text(proc.stdout + proc.stderr)
    text = proc.stdout
    ops = re.findall(r"Operations:\s+(\d+) selected", text)
    cases = re.findall(r"(\d+) generated", text)
    return {"exit": proc.returncode, "seconds": time.monotonic() - t0,
            "operations": ops[-1] if ops else "?", "cases": cases[-1] if cases else "?",
            "reproducers": [line.strip() for line in text.splitlines()
                            if line.strip().startswith("curl ")][:5]}


def _hypothesis(base: str, token: str, examples: int) -> dict:
    import requests
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.test_sync_fuzz import envelopes, fields

    session = requests.Session()
    session.headers.update({"Authorization": f"Token {token}",
                            "Content-Type": "application/json"})
    codes: Counter = Counter()
    bad: list[str] = []

    def post(body) -> None:
        data = json.dumps(body, allow_nan=True)
        code = session.post(f"{base}/api/v1/sync/", data=data, timeout=60).status_code
        codes[code] += 1
        if code >= 500 and len(bad) < 5:
            bad.append(data[:500])

    cfg = settings(max_examples=examples, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))
    given(envelope=envelopes)(cfg(lambda envelope: post(envelope)))()
    given(data=fields, op=st.sampled_from(["create", "update", "open_lot"]))(cfg(
        lambda data, op: post({"items": [{"op_id": "0b7f6a1e-0000-4000-8000-000000000001",
                                          "op": op, "data": data}]})))()
    return {"codes": dict(sorted(codes.items())), "bad": bad}


def run(quick: bool = False) -> str:
    examples = 30 if quick else 100
    t0 = time.monotonic()
    log = VAR / "fuzz-access.log"
    log.write_text("")
    with Stack(agents=2) as stack:
        base = stack.web(workers=1, threads=4, access_log=str(log))
        st_res = _schemathesis(base, stack.seed.tokens[0], examples)
        st_5xx = _five_xx(log, 0)
        mark = log.stat().st_size
        hy_res = _hypothesis(base, stack.seed.tokens[1], examples * 3)
        hy_5xx = _five_xx(log, mark)
    return _write(st_res, st_5xx, hy_res, hy_5xx, examples, time.monotonic() - t0)


def _write(st_res, st_5xx, hy_res, hy_5xx, examples, elapsed) -> str:
    rows = [["schemathesis, every operation of /api/schema/ (device token)",
             f"{st_res['operations']} operations, {st_res['cases']} cases "
             f"(≤ {examples} per operation and phase)", sum(st_5xx.values())],
            ["hypothesis, batch envelopes and item data on POST /api/v1/sync/",
             ", ".join(f"{k}: {v}" for k, v in hy_res["codes"].items()), sum(hy_5xx.values())]]
    found = "\n".join(f"- `{k}` ×{v}" for k, v in (st_5xx + hy_5xx).items()) or "none"
    repro = "\n".join(f"    {r}" for r in st_res["reproducers"] + hy_res["bad"]) or "    —"
    total = sum(st_5xx.values()) + sum(hy_5xx.values())
    md = f"""## Fuzzing

Against gunicorn on PostgreSQL; 5xx counted from gunicorn's access log (not from the
tools' own verdicts). Schemathesis output: `var/bench/schemathesis.txt`.

{table(["fuzzer", "what ran", "5xx"], rows)}

5xx answers: **{total}** (target 0: **{"met" if total == 0 else "missed"}**).
By endpoint: {found}

Reproducers (first few):

{repro}

Scenario wall time {elapsed:.0f} s.
"""
    report.write_section("fuzz", md)
    return md
