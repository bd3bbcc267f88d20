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


def _filters(base: str, token: str, examples: int) -> dict:
    """Every filter parameter of the API (device token) with hostile values (raw bytes in the
    query string: NUL, lone surrogates as %ED%A0%80, other digits, exponents)."""
    import requests
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.strategies import nasty_text, query
    from tests.test_sync_fuzz import API_FILTERS

    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    codes: Counter = Counter()
    bad: list[str] = []

    def get(which: int, value: str) -> None:
        url, param = API_FILTERS[which % len(API_FILTERS)]
        target = f"{base}{url}?{param}={query(value)}"
        code = session.get(target, timeout=60).status_code
        codes[code] += 1
        if code >= 500 and len(bad) < 5:
            bad.append(f"curl -H 'Authorization: Token …' '{target}'")

    cfg = settings(max_examples=examples, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))
    given(which=st.integers(min_value=0, max_value=10**6), value=nasty_text)(cfg(get))()
    return {"codes": dict(sorted(codes.items())), "bad": bad}


def _uploads(base: str, token: str, examples: int) -> dict:
    """tus creation and PATCH with hostile Upload-Length, Upload-Metadata and offsets."""
    import base64

    import requests
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.strategies import nasty_text

    session = requests.Session()
    session.headers.update({"Authorization": f"Token {token}", "Tus-Resumable": "1.0.0"})
    codes: Counter = Counter()
    bad: list[str] = []

    def latin(text: str) -> str:  # what an HTTP header can carry of it
        return text.encode("utf-8", "surrogatepass").decode("latin-1").replace("\r", "").replace(
            "\n", "")

    def send(length, key, raw, offset, body) -> None:
        meta = f"photo_id {base64.b64encode(b'6f1c1b8e-3f2a-4c55-9d7e-1a2b3c4d5e6f').decode()}"
        meta += f",{latin(key).replace(',', '').replace(' ', '') or 'k'} {base64.b64encode(raw).decode()}"
        try:
            response = session.post(f"{base}/api/v1/uploads/", timeout=60, headers={
                "Upload-Length": latin(length), "Upload-Metadata": meta})
        except (requests.exceptions.InvalidHeader, ValueError):
            return  # the client library refused to send it: not a request
        codes[response.status_code] += 1
        if response.status_code >= 500 and len(bad) < 5:
            bad.append(f"POST /api/v1/uploads/ Upload-Length={length!r} meta={meta!r}")
        if response.status_code == 201:
            try:
                patched = session.patch(response.headers["Location"], data=body, timeout=60,
                                        headers={"Upload-Offset": latin(offset),
                                                 "Content-Type": "application/offset+octet-stream"})
            except (requests.exceptions.InvalidHeader, ValueError):
                return
            codes[patched.status_code] += 1
            if patched.status_code >= 500 and len(bad) < 5:
                bad.append(f"PATCH Upload-Offset={offset!r} body={body[:40]!r}")

    cfg = settings(max_examples=examples, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))
    given(length=st.one_of(nasty_text, st.integers(min_value=0, max_value=2**70).map(str)),
          key=nasty_text, raw=st.binary(max_size=32), offset=st.one_of(nasty_text, st.just("0")),
          body=st.binary(max_size=64))(cfg(send))()
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
        mark = log.stat().st_size
        fi_res = _filters(base, stack.seed.tokens[1], examples * 3)
        fi_5xx = _five_xx(log, mark)
        mark = log.stat().st_size
        up_res = _uploads(base, stack.seed.tokens[1], examples * 2)
        up_5xx = _five_xx(log, mark)
    extra = [("hypothesis, every filter parameter of the API (hostile text, raw bytes)",
              fi_res, fi_5xx),
             ("hypothesis, tus creation and PATCH headers (POST/PATCH /api/v1/uploads/)",
              up_res, up_5xx)]
    return _write(st_res, st_5xx, hy_res, hy_5xx, examples, time.monotonic() - t0, extra)


def _write(st_res, st_5xx, hy_res, hy_5xx, examples, elapsed, extra=()) -> str:
    rows = [["schemathesis, every operation of /api/schema/ (device token)",
             f"{st_res['operations']} operations, {st_res['cases']} cases "
             f"(≤ {examples} per operation and phase)", sum(st_5xx.values())],
            ["hypothesis, batch envelopes and item data on POST /api/v1/sync/",
             ", ".join(f"{k}: {v}" for k, v in hy_res["codes"].items()), sum(hy_5xx.values())]]
    rows += [[name, ", ".join(f"{k}: {v}" for k, v in res["codes"].items()), sum(fives.values())]
             for name, res, fives in extra]
    every = st_5xx + hy_5xx
    for _, _, fives in extra:
        every += fives
    found = "\n".join(f"- `{k}` ×{v}" for k, v in every.items()) or "none"
    repro = "\n".join(f"    {r}" for r in st_res["reproducers"] + hy_res["bad"]
                      + [b for _, res, _ in extra for b in res["bad"]]) or "    —"
    total = sum(every.values())
    md = f"""## Fuzzing

Against gunicorn on PostgreSQL; 5xx counted from gunicorn's access log (not from the
tools' own verdicts). Schemathesis output: `var/bench/schemathesis.txt`. The hypothesis
strategies (`tests/strategies.py`) hold NUL and other control characters, lone surrogates,
non-ASCII digits and numerals, huge and tiny exponents and JSON nested up to 400 deep; the
image fuzzer is its own section (`bench/imagefuzz.py`).

{table(["fuzzer", "what ran", "5xx"], rows)}

5xx answers: **{total}** (target 0: **{"met" if total == 0 else "missed"}**).
By endpoint: {found}

Reproducers (first few):

{repro}

Scenario wall time {elapsed:.0f} s.
"""
    report.write_section("fuzz", md)
    return md
