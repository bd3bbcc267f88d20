"""Scenario: bytes per photo. The app's own compression worker (pwa/js/compress.js) in
Debian's Chromium compresses each of the 20 photos of bench/photoset.py with every
candidate encoder and quality; SSIM is computed here against a 1600 px reference.

SSIM: the standard one (Wang et al. 2004): 11×11 Gaussian window, σ = 1.5, K1 = 0.01,
K2 = 0.03, L = 255, the mean over the valid region, on luma (BT.601 weights, in floats)
of the decoded output against the original resized by Pillow (LANCZOS, kept as floats,
never re-encoded). In numpy (≈ 40 lines) rather than scikit-image, which would bring
scipy and more for one function.
"""

import base64
import http.server
import io
import json
import os
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from . import photoset, report
from .env import ROOT
from .stats import median, spread, table

PORT = int(os.environ.get("PHOTOBYTES_PORT", "8110"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
JPEG, WEBP, PNG = "image/jpeg", "image/webp", "image/png"
# (type, quality, imageSmoothingQuality of the downscale); the browser's default is 'low'.
FIRST_ROUND = (JPEG, 0.8, "low")  # what the app made before this round
APP = (None, None, None)  # the app's own choice (pwa/js/encoding.js, compress-worker.js)
FIRST_ROUND_KB = 183  # bench/RESULTS.md §1 before this round: one easy photo
TARGET_KB, TARGET_SSIM = 150, 0.95
CANDIDATES = [(PNG, 1, "low"), (PNG, 1, "high"), FIRST_ROUND, (WEBP, 0.75, "low")] + [
    (JPEG, q, "high") for q in (0.5, 0.6, 0.7, 0.8, 0.9)] + [
    (WEBP, q, "high") for q in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9)]
THROTTLE = 4  # CDP CPU throttling rate: a tablet estimate
# The formats' own bound: the 1600 px reference itself (a perfect downscale) encoded by
# Pillow's libjpeg-turbo, libwebp and libavif at their thorough settings; no encoder of these
# formats in a browser does better from a worse downscale.
BOUND = {"JPEG": ({"optimize": True, "subsampling": "4:2:0"}, (40, 50, 60, 70, 80, 85)),
         "WEBP": ({"method": 6}, (70, 75, 80, 85, 90)),
         "AVIF": ({"speed": 6}, (50, 55, 60, 65, 70))}

PAGE = b"<!doctype html><meta charset=utf-8><title>photobytes</title>"
COMPRESS = """async ({ url, encodings }) => {
  const { compressPhoto } = await import('/js/compress.js');
  const file = await (await fetch(url)).blob();
  const base64 = (blob) => new Promise((ok) => {
    const reader = new FileReader();
    reader.onload = () => ok(reader.result.split(',')[1]);
    reader.readAsDataURL(blob);
  });
  const out = [];
  for (const [type, quality, smoothing] of encodings) {
    const r = await compressPhoto(file, type ? { type, quality, smoothing } : {});
    out.push({ type: r.blob.type, bytes: r.blob.size, ms: r.ms, encodeMs: r.encodeMs,
               width: r.width, height: r.height, data: await base64(r.blob) });
  }
  return out;
}"""


# --- SSIM ---------------------------------------------------------------------------------------

def _window() -> np.ndarray:
    x = np.arange(11) - 5
    g = np.exp(-(x ** 2) / (2 * 1.5 ** 2))
    return g / g.sum()


WINDOW = _window()


def _filter(a: np.ndarray) -> np.ndarray:
    """The 11×11 Gaussian (separable), valid region only."""
    h, w = a.shape
    rows = sum(WINDOW[i] * a[:, i:w - 10 + i] for i in range(11))
    return sum(WINDOW[i] * rows[i:h - 10 + i, :] for i in range(11))


def luma(image: Image.Image) -> np.ndarray:
    rgb = np.asarray(image.convert("RGB"), np.float64)
    return rgb @ np.array([0.299, 0.587, 0.114])


class Reference:
    """A photo's 1600 px reference, its local means and variances computed once."""

    def __init__(self, path: Path, size: tuple[int, int]):
        with Image.open(path) as original:
            self.image = original.resize(size, Image.Resampling.LANCZOS).convert("RGB")
        self.y = luma(self.image)
        self.mu = _filter(self.y)
        self.var = _filter(self.y * self.y) - self.mu ** 2

    def ssim(self, data: bytes) -> float:
        with Image.open(io.BytesIO(data)) as decoded:
            y = luma(decoded)
        c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
        mu = _filter(y)
        var = _filter(y * y) - mu ** 2
        cov = _filter(self.y * y) - self.mu * mu
        value = ((2 * self.mu * mu + c1) * (2 * cov + c2)) / (
            (self.mu ** 2 + mu ** 2 + c1) * (self.var + var + c2))
        return float(value.mean())


def bound(paths: list[Path]) -> dict[tuple[str, int], list[tuple[float, float]]]:
    """(format, quality) → each photo's (kB, SSIM), its reference encoded as it is."""
    out = {(fmt, q): [] for fmt, (_, qualities) in BOUND.items() for q in qualities}
    for path in paths:
        with Image.open(path) as original:
            scale = 1600 / max(original.size)
            size = (round(original.width * scale), round(original.height * scale))
        ref = Reference(path, size)
        for (fmt, q), results in out.items():
            data = io.BytesIO()
            ref.image.save(data, fmt, quality=q, **BOUND[fmt][0])
            results.append((len(data.getvalue()) / 1000, ref.ssim(data.getvalue())))
    return out


# --- the browser ----------------------------------------------------------------------------------

class _Files(http.server.SimpleHTTPRequestHandler):
    """/js/… from pwa/js (the app's modules, unchanged), /photos/… from the photo set."""

    def translate_path(self, path):
        path = path.split("?")[0]
        if path.startswith("/js/"):
            return str(ROOT / "pwa" / "js" / Path(path[4:]).name)
        if path.startswith("/photos/"):
            return str(photoset.folder() / Path(path[8:]).name)
        return "/nonexistent"

    def do_GET(self):
        if self.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(PAGE)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


def _serve() -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), _Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def compress_all(paths: list[Path], encodings: list, throttle: float = 1) -> list[list[dict]]:
    """For each photo, the app's worker's result for each (type, quality, smoothing); APP
    is the app's own choice."""
    from playwright.sync_api import sync_playwright

    server = _serve()
    try:
        with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="colis-chromium-") as profile:
            ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=ARGS,
                                                       headless=True)
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.set_default_timeout(600_000)
            page.goto(f"http://127.0.0.1:{PORT}/")
            if throttle != 1:
                ctx.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            page.evaluate(COMPRESS, {"url": f"/photos/{paths[0].name}", "encodings": [list(FIRST_ROUND)]})
            results = [page.evaluate(COMPRESS, {"url": f"/photos/{path.name}", "encodings": encodings})
                       for path in paths]
            ctx.close()
    finally:
        server.shutdown()
        server.server_close()
    return results


# --- the scenario ---------------------------------------------------------------------------------

def run(quick: bool = False) -> str:
    t0 = time.monotonic()
    paths = photoset.photos()
    if quick:
        paths = paths[::4]
    encodings = [*CANDIDATES, APP]
    runs = compress_all(paths, [list(e) for e in encodings])
    rows = {e: [] for e in encodings}  # encoding → per-photo dicts
    for path, results in zip(paths, runs, strict=True):
        first = results[0]
        ref = Reference(path, (first["width"], first["height"]))
        for encoding, r in zip(encodings, results, strict=True):
            data = base64.b64decode(r.pop("data"))
            rows[encoding].append({**r, "photo": path.stem, "kb": len(data) / 1000,
                                   "ssim": ref.ssim(data), "original_kb": path.stat().st_size / 1000})
    timed = [FIRST_ROUND, APP]
    throttled = compress_all(paths, [list(e) for e in timed], THROTTLE)
    slow = {e: [r[i] for r in throttled] for i, e in enumerate(timed)}
    limits = bound(paths)
    raw = photoset.folder().parent / "photobytes.json"
    raw.write_text(json.dumps({"rows": {json.dumps(k): v for k, v in rows.items()},
                               "slow": {json.dumps(k): v for k, v in slow.items()},
                               "bound": {json.dumps(k): v for k, v in limits.items()}}))
    return _write(rows, slow, limits, paths, quick, time.monotonic() - t0)


def best(rows: dict, kind: str) -> tuple | None:
    """The measured choice among `kind` with the 'high' resize: within the median's byte
    target, the fewest photos under TARGET_SSIM, then the best worst photo, then the fewest
    bytes."""
    fits = [(sum(r["ssim"] < TARGET_SSIM for r in v), -min(r["ssim"] for r in v),
             median([r["kb"] for r in v]), e)
            for e, v in rows.items() if e[0] == kind and e[2] == "high"
            and median([r["kb"] for r in v]) <= TARGET_KB]
    return min(fits)[-1] if fits else None


def app_qualities() -> dict[str, float]:
    """The qualities pwa/js/encoding.js ships, by type."""
    source = (ROOT / "pwa" / "js" / "encoding.js").read_text()
    return {t: float(q) for t, q in re.findall(r"type: '(image/\w+)', quality: ([\d.]+)", source)}


def _agrees(kind: str, quality: float, measured: tuple | None) -> str:
    verdict = ("the measured choice" if measured and measured[1] == quality
               else f"measured: {measured[1]:g}" if measured else f"none fits {TARGET_KB} kB")
    return f"{kind.split('/')[1].upper()} {quality:g} ({verdict})"


def _first_reaching(rows: dict, kind: str) -> str:
    """The lowest quality of `kind` whose median SSIM reaches the target, and its bytes."""
    for (k, q, smoothing), v in sorted(rows.items(), key=lambda item: str(item[0])):
        if k == kind and smoothing == "high" and statistics.median([r["ssim"] for r in v]) >= TARGET_SSIM:
            return f"{kind.split('/')[1].upper()} {q:g}: {median([r['kb'] for r in v]):.0f} kB median"
    return f"no {kind.split('/')[1].upper()} quality measured"


def _name(encoding: tuple) -> str:
    if encoding == APP:
        return "**the app** (encoding.js)"
    kind, q, smoothing = encoding
    return f"{kind.split('/')[1].upper()} {q:g}" + (" (first round)" if encoding == FIRST_ROUND else "")


def _row(encoding, rows, lossless, first_kb, slow) -> list:
    kb = [r["kb"] for r in rows]
    ssim = [r["ssim"] for r in rows]
    below = sum(s < TARGET_SSIM for s in ssim)
    # A photo the lossless resize already puts under the target is not the encoder's doing.
    encoder = sum(s < TARGET_SSIM <= c["ssim"] for s, c in zip(ssim, lossless, strict=True))
    return [_name(encoding), rows[0]["type"].split("/")[1] if encoding == APP else encoding[2],
            f"{median(kb):.0f} [{min(kb):.0f}–{max(kb):.0f}]",
            f"{statistics.median(ssim):.4f} [{min(ssim):.4f}]", f"{below} ({encoder})",
            spread([r["encodeMs"] for r in rows], 0), spread([r["ms"] for r in rows], 0),
            spread([r["encodeMs"] for r in slow], 0) if slow else "—",
            f"×{median(kb) / FIRST_ROUND_KB:.2f}", f"×{median(kb) / first_kb:.2f}"]


def _bound_rows(limits: dict) -> tuple[list, str]:
    """The bound's table, and what it says of the target: the best median SSIM within the
    bytes, and the fewest bytes for the SSIM, by format."""
    lines, within, needs = [], [], []
    for fmt, _ in BOUND.items():
        measured = [(q, median([kb for kb, _ in v]), statistics.median([s for _, s in v]),
                     min(s for _, s in v)) for (f, q), v in limits.items() if f == fmt]
        lines += [[fmt, q, f"{kb:.0f}", f"{s:.4f} [{worst:.4f}]"] for q, kb, s, worst in measured]
        fits = [(s, q, kb) for q, kb, s, _ in measured if kb <= TARGET_KB]
        within.append(f"{fmt} {max(fits)[0]:.3f} (q {max(fits)[1]}, {max(fits)[2]:.0f} kB)" if fits
                      else f"{fmt}: no quality measured within {TARGET_KB} kB")
        reach = [(kb, q) for q, kb, s, _ in measured if s >= TARGET_SSIM]
        needs.append(f"{fmt} {min(reach)[0]:.0f} kB (q {min(reach)[1]})" if reach
                     else f"{fmt} more than q {measured[-1][0]} ({measured[-1][1]:.0f} kB)")
    said = (f"Within {TARGET_KB} kB the best median SSIM is {', '.join(within)}; a median SSIM ≥ "
            f"{TARGET_SSIM} takes {', '.join(needs)}")
    return lines, said


def _write(rows, slow, limits, paths, quick, elapsed) -> str:
    first, app = rows[FIRST_ROUND], rows[APP]
    first_kb, app_kb = median([r["kb"] for r in first]), median([r["kb"] for r in app])
    lines = [_row(e, v, rows[(PNG, 1, e[2] or "high")], first_kb, slow.get(e)) for e, v in rows.items()]
    ceiling = rows[(PNG, 1, "high")]
    per_photo = [[r["photo"], f"{r['original_kb'] / 1000:.1f} MB", f"{f['kb']:.0f}", f"{f['ssim']:.4f}",
                  f"{c['ssim']:.4f}", f"{r['kb']:.0f}", f"{r['ssim']:.4f}", f"×{f['kb'] / r['kb']:.2f}",
                  f"{f['ms']:.0f}", f"{r['ms']:.0f}", f"{s['ms']:.0f}"]
                 for r, f, c, s in zip(app, first, ceiling, slow[APP], strict=True)]
    agree = " and ".join(_agrees(kind, q, best(rows, kind)) for kind, q in app_qualities().items())
    below_ceiling = sum(c["ssim"] < TARGET_SSIM for c in ceiling)
    app_below = sum(r["ssim"] < TARGET_SSIM for r in app)
    app_ssim = statistics.median([r["ssim"] for r in app])
    ceiling_note = (f"{below_ceiling} photos are under {TARGET_SSIM} even lossless (the browser's "
                    "downscale against LANCZOS), so no quality lifts every photo over it"
                    if below_ceiling else "the lossless downscale puts none under it")
    low, high = rows[FIRST_ROUND], rows[(JPEG, 0.8, "high")]
    needs = "; ".join(_first_reaching(rows, kind) for kind in (WEBP, JPEG))
    bound_lines, bound_said = _bound_rows(limits)
    quick_note = f"**Quick variant** (`--quick`): {len(paths)} photos of 20.\n" if quick else ""
    md = f"""## 1b. Bytes per photo: encoder and quality, by SSIM

{quick_note}**The photo set**: {len(paths)} generated 12 MP camera-like JPEGs (bench/photoset.py, seed
{photoset.SEED}, regenerated in ≈ 2 min and cached outside the repository): cartons with labels,
text and barcodes, pallets, shelves, woven sacks, corrugated card, concrete, striped fabric,
documents, printed boxes, a container under a bright sky, a yard, two dim shots, one shaken, one
out of focus; 4000×3000 and 3000×4000; fine surface relief, lens blur, shot and read noise,
the camera's sharpening, JPEG q 92: {spread([r['original_kb'] / 1000 for r in app], 1, ' MB')}.
**How**: each photo is compressed by the app's own worker (pwa/js/compress.js →
compress-worker.js: decode, longest side 1600 px, `OffscreenCanvas.convertToBlob`) in Debian's
headless Chromium, with each candidate type, quality and downscale (`imageSmoothingQuality`:
*low* is the browser's default and the first round's, *high* the app's now), and once by the
app's own choice (pwa/js/encoding.js). **SSIM**: standard 11×11 Gaussian SSIM (σ 1.5) on luma
against the original resized to the same size by Pillow LANCZOS (bench/photobytes.py);
*PNG* rows are the lossless resize, the ceiling any encoder reaches from that downscale.
**Times**, in the worker on this machine's Chromium (desktop): *encode ms* is `convertToBlob`
alone, *compress ms* the whole worker job (decode of the 12 MP JPEG, resize, encode).
*Encode ms, CDP ×{THROTTLE}*: the same with `Emulation.setCPUThrottlingRate` {THROTTLE} on the
page, the tablet estimate asked for; it throttles the page's main thread, and the worker's encoder
barely slows (measured: ×16 made WebP ≈ 1.5× slower), so read it as a floor; ×{THROTTLE} the
desktop figure is the rough tablet estimate. **First round**: JPEG 0.8 with the default resize,
on the same set in the same run (median {first_kb:.0f} kB), and {FIRST_ROUND_KB} kB quoted from
bench/RESULTS.md §1 of the first round (one easy photo). Target: median ≤ {TARGET_KB} kB with SSIM
≥ {TARGET_SSIM}. *< 0.95* counts the photos under 0.95, and in brackets those whose lossless
resize is ≥ 0.95 (the encoder's own loss).

{table(["encoder quality", "resize", "kB median [min–max]", "SSIM median [min]", "< 0.95 (encoder's)",
        "encode ms", "compress ms", f"encode ms, CDP ×{THROTTLE}", "median ÷ 183 kB (first round)",
        "median ÷ JPEG 0.8 low (same set)"], lines)}

**Measured choice** (the 'high' resize; within median ≤ {TARGET_KB} kB, the fewest photos under
{TARGET_SSIM}, then the best worst photo, then the fewest bytes): the app ships {agree}.
**Why JPEG and not WebP**, where Chromium encodes both: within {TARGET_KB} kB the two are even on
SSIM (the rows above), but WebP encodes about five times slower in the worker (the *encode ms*
column: the preview waits for it), and the server must decode a WebP and encode the JPEG it
stores, where it keeps a fitting JPEG's bytes as they are (sync/jpeg.py): §4 measures that path
at about a tenth of the colis per second of the JPEG one, far under its 40 colis/s target.
**The app** ({app[0]['type']} in Chromium): median **{app_kb:.0f} kB**, ×{first_kb / app_kb:.2f}
fewer bytes than the first round's setting on the same photos and ×{FIRST_ROUND_KB / app_kb:.2f}
fewer than the first round's quoted {FIRST_ROUND_KB} kB. Median ≤ {TARGET_KB} kB:
**{'met' if app_kb <= TARGET_KB else 'missed'}**. SSIM ≥ {TARGET_SSIM}: median {app_ssim:.4f}
(first round {statistics.median([r['ssim'] for r in first]):.4f}), **{'met' if app_ssim >= TARGET_SSIM
else 'missed'} on the median**; {len(app) - app_below} of {len(app)} photos reach it;
{ceiling_note}. **The downscale alone** (JPEG 0.8, `imageSmoothingQuality` low → high):
{median([r['kb'] for r in low]):.0f} → {median([r['kb'] for r in high]):.0f} kB median, SSIM median
{statistics.median([r['ssim'] for r in low]):.4f} → {statistics.median([r['ssim'] for r in high]):.4f},
worst photo {min(r['ssim'] for r in low):.4f} → {min(r['ssim'] for r in high):.4f}.
**A median SSIM ≥ {TARGET_SSIM}** (with the high downscale) takes {needs}.
Whole compression: {spread([r['ms'] for r in app], 0, ' ms')} against
{spread([r['ms'] for r in first], 0, ' ms')} for the first round's setting (CDP ×{THROTTLE}:
{spread([r['ms'] for r in slow[APP]], 0, ' ms')} against
{spread([r['ms'] for r in slow[FIRST_ROUND]], 0, ' ms')}). It runs when the photo is chosen,
before « Enregistrer », never on the save path.

**The formats' bound**: each photo's 1600 px reference itself (LANCZOS: a perfect
downscale) encoded by Pillow with libjpeg-turbo (optimised Huffman tables, 4:2:0), libwebp
(method 6) and libavif (speed 6): what these formats reach at best on this set, whatever the
browser. {bound_said}. **So the two targets cannot both be met on photos like these** by any of
the three formats, AVIF included (which Chromium cannot encode from a canvas, and whose encoding
would fall to a WebAssembly encoder on the tablet): one of the two targets has to give.

{table(["format", "quality", "kB median", "SSIM median [min]"], bound_lines)}

Per photo, the app against the first round's setting (JPEG 0.8, default resize):

{table(["photo", "camera JPEG", "first kB", "first SSIM", "lossless SSIM", "app kB", "app SSIM",
        "fewer bytes", "first ms", "app ms", f"app ms, CDP ×{THROTTLE}"], per_photo)}

Scenario wall time {elapsed:.0f} s. Reproduce: `python -m bench.run photobytes`.
"""
    report.write_section("photobytes", md)
    return md
