"""`make bench`: every scenario, each in its own process, then bench/RESULTS.md.

    python -m bench.run                 # everything (≈ 2 h: week ≈ 50 min, slowlink ≈ 30)
    python -m bench.run --quick         # a fast pass (fewer runs, smaller scale)
    python -m bench.run ingest scale    # some scenarios only; their sections are refreshed
"""

import argparse
import importlib
import importlib.util
import subprocess
import sys
import time

from . import report

SCENARIOS = {  # name → module (its run(quick) -> markdown), or module:function
    "ingest": "bench.ingest",
    "materialise": "bench.materialise",
    "scale": "bench.scale",
    "drills": "bench.drills",
    "fuzz": "bench.fuzz",
    "imagefuzz": "bench.imagefuzz",
    "save": "bench.save",
    "photobytes": "bench.photobytes",
    "slowlink": "bench.slowlink",
    "workers": "bench.materialise:run_workers",
    "nodes": "bench.nodes",
    "restore": "bench.restore",
    "week": "bench.week",
}
# seconds per scenario; others 600 (materialise: its per-step tables and WebP rows, 8–15 min)
LIMITS = {"photobytes": 1500, "scale": 900, "save": 1200, "slowlink": 2700, "nodes": 900,
          "week": 4200, "materialise": 1200}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", choices=[*SCENARIOS, []], default=[])
    parser.add_argument("--quick", action="store_true", help="fewer runs, smaller data")
    parser.add_argument("--inline", action="store_true", help="run in this process (one scenario)")
    args = parser.parse_args(argv)
    names = args.scenarios or list(SCENARIOS)
    if args.inline:
        for name in names:
            module, _, function = SCENARIOS[name].partition(":")
            run = getattr(importlib.import_module(module), function or "run")
            print(run(quick=args.quick), flush=True)
        return 0
    failed = []
    for name in names:
        if importlib.util.find_spec(SCENARIOS[name].split(":")[0]) is None:
            print(f"== {name}: not written yet, skipped", flush=True)
            continue
        t0 = time.monotonic()
        print(f"== {name}", flush=True)
        cmd = [sys.executable, "-m", "bench.run", name, "--inline"] + (["--quick"] * args.quick)
        try:
            code = subprocess.run(cmd, timeout=LIMITS.get(name, 600)).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        print(f"== {name}: {'ok' if code == 0 else f'FAILED ({code})'} "
              f"in {time.monotonic() - t0:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    report.assemble()
    print(f"bench/RESULTS.md written; failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
