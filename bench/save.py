"""Scenario 1, save: from tapping « Enregistrer » to the confirmation, in the PWA in headless
Chromium (offline and online, a 12 MP photo compressed on the tablet beforehand), against
the baseline's form POST of the same colis with the raw photo, on each link profile:
loopback, then linkem's `typical` and `bad` (see bench/slowlink.py for the namespaces).
"""

import time

from . import report
from .slowlink import PROFILES, Link, World, baseline_over, driver, events
from .stats import median, percentile, spread, table

LINKS = ["loopback", "typical", "bad"]


def _pwa(world: World, profile: str, agent: int, k: int) -> dict:
    from .env import VAR, stop

    loop = profile == "loopback"
    spec = {"mode": "saves", "base": world.loop_base if loop else world.base,
            "username": f"agent{agent}", "device": f"Tablette {profile}",
            "lot": world.seed.lot_ids[agent], "photo": str(VAR / "camera-12mp.jpg"),
            "phases": [["offline", k], ["online", k]]}
    proc = driver(spec, None if loop else "pf_cli")
    try:
        ready = events(proc, "ready", 300)
        saves = events(proc, "saves", 120 + 30 * k)
        proc.wait(60)
    finally:
        stop(proc)
    return {"login_s": ready["login_s"], "offline": saves["offline"], "online": saves["online"]}


def run(quick: bool = False) -> str:
    from . import photos

    photos.camera_jpeg()
    k = 8 if quick else 20
    posts = {"loopback": 3 if quick else 10, "typical": 1 if quick else 5,
             "bad": 1 if quick else 3}
    t0 = time.monotonic()
    results = {}
    with Link() as link, World(agents=2 * len(LINKS), loopback=True) as world:
        for i, profile in enumerate(LINKS):
            link.set(None if profile == "loopback" else profile)
            pwa = _pwa(world, profile, 2 * i, k)
            if profile == "loopback":
                base = baseline_over(world, None, 2 * i + 1, posts[profile], netns=None,
                                     base=world.loop_base)
            else:
                base = baseline_over(world, link, 2 * i + 1, posts[profile])
            link.set(None)
            results[profile] = (pwa, base)
    return _write(results, k, quick, time.monotonic() - t0)


def _ms(values: list[float]) -> str:
    return f"{percentile(values, 95):.1f}" if values else "—"


def _write(results: dict, k: int, quick: bool, elapsed: float) -> str:
    rows, worst = [], 0.0
    for profile, (pwa, base) in results.items():
        post_ms = [s * 1000 for s in base["seconds"]]
        for phase in ("offline", "online"):
            tap = [s["tap_ms"] for s in pwa[phase]]
            worst = max(worst, percentile(tap, 95))
            b50, b95 = median(post_ms), percentile(post_ms, 95)
            rows.append([profile, f"PWA {phase}", spread(tap, 1), _ms(tap),
                         spread([s["app_ms"] for s in pwa[phase]], 1),
                         spread(post_ms, 0), f"{b95:.0f}" if post_ms else "—",
                         f"×{b50 / median(tap):,.0f}" if post_ms else "—",
                         f"×{b95 / percentile(tap, 95):,.0f}" if post_ms else "—"])
    every = [s for pwa, _ in results.values() for ph in ("offline", "online") for s in pwa[ph]]
    compress = [s["compress_ms"] for s in every]
    select = [s["select_ms"] for s in every]
    sizes = [s["photo_bytes"] / 1e3 for s in every]
    original = every[0]["original_bytes"] / 1e6 if every else 0
    failures = {p: len(b["failures"]) for p, (_, b) in results.items()}
    links = ", ".join(f"`{p}` {u / 1000:g} Mbit/s up, {2 * d} ms RTT, {loss:g} % loss"
                      for p, (u, _dn, d, loss) in PROFILES.items() if p in results)
    posts = ", ".join(f"{len(b['seconds'])} POSTs on `{p}`" for p, (_, b) in results.items())
    quick_note = "**Quick variant** (`--quick`): fewer saves and POSTs.\n" if quick else ""
    md = f"""## 1. Save: tap to confirmation, PWA vs the baseline's form POST

{quick_note}Headless Chromium (Debian's, Playwright), a fresh profile per row group, logged in as an
agent; each save fills the form, picks the same 12 MP camera JPEG ({original:.1f} MB), waits
for the tablet's compression, then taps « Enregistrer »: **tap → confirmation** runs from the
click event (captured on the document) to the `#save-status` update (a MutationObserver on
its `data-saved`); *app's measure* is `colisMetrics.saves` (the IndexedDB write of the colis
and its photo). {k} saves per phase after one warm-up save: **offline** (Playwright's offline
emulation) then **online** (the sync loop uploading meanwhile). On `loopback` Chromium and
gunicorn are on 127.0.0.1; on the link profiles ({links})
Chromium runs in linkem's client namespace and gunicorn in its server namespace
(bench/slowlink.py). **Baseline:** the form POSTed with the raw photo by another agent from
the same place (Python `requests`), timed from the request to the response: the whole
upload, then Pillow and the database inside the request ({posts};
re-sent after a failure: {", ".join(f"{n} on `{p}`" for p, n in failures.items())}).
Times in ms; ratios = baseline ÷ PWA (how many times faster the agent gets the confirmation).

{table(["link", "what", "tap → confirmation ms", "p95 ms", "app's measure ms",
        "baseline POST ms", "baseline p95 ms", "ratio p50", "ratio p95"], rows)}

**Compression, before the save** (all {len(every)} saves, in the app's Web Worker):
{spread(compress, 0, " ms")} (p95 {_ms(compress)} ms) for the 12 MP photo to
{spread(sizes, 0, " kB")}; from choosing the file to the preview being ready (what the
agent waits for, file reading included): {spread(select, 0, " ms")} (p95 {_ms(select)} ms).
The baseline does not compress: it sends the {original:.1f} MB.

Target save < 50 ms p95: **{"met" if worst < 50 else "missed"}** (worst p95 {worst:.1f} ms).
Scenario wall time {elapsed:.0f} s.
"""
    report.write_section("save", md)
    return md
