"""pwa/js/pricing.js gives the same quotes as server/cargo/pricing.py (run under node)."""

import json
import random
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from server.cargo.pricing import quote

ROOT = Path(__file__).resolve().parent.parent
VECTORS = json.loads((ROOT / "tests" / "pricing_vectors.json").read_text())["cases"]
RUNNER = f"""
import {{ quote }} from {json.dumps((ROOT / "pwa" / "js" / "pricing.js").as_uri())};
let input = '';
process.stdin.on('data', (d) => {{ input += d; }});
process.stdin.on('end', () => {{
  const cases = JSON.parse(input);
  process.stdout.write(JSON.stringify(cases.map((c) => quote(c.tariff, c.colis))));
}});
"""

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def js_quotes(cases: list[dict]) -> list[dict]:
    out = subprocess.run(["node", "--input-type=module", "-e", RUNNER], input=json.dumps(cases),
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_it_matches_the_shared_vectors():
    for case, got in zip(VECTORS, js_quotes(VECTORS), strict=True):
        assert (got["quantity"], got["amount"]) == (case["quantity"], case["amount"]), case["name"]


def random_case(rng: random.Random) -> dict:
    def dec(low: int, high: int, places: int) -> str:
        return str(Decimal(rng.randint(low, high)) / Decimal(10**places))

    unit = rng.choice(["kg", "m3"])
    tariff = {"unit": unit, "rate": dec(1, 5_000_000, 2),
              "divisor": rng.choice([1, 5000, 6000, 7]), "minimum": dec(0, 5_000_000, 2),
              "round_to": rng.choice(["0.01", "1", "5", "50", "500"]),
              "rounding": rng.choice(["nearest", "up"]), "currency": "XOF"}
    colis = {"poids": dec(1, 2_000_000, 3), "longueur": dec(1, 6000, 1),
             "largeur": dec(1, 6000, 1), "hauteur": dec(1, 6000, 1)}
    return {"tariff": tariff, "colis": colis}


def test_it_matches_the_server_on_random_colis():
    rng = random.Random(20261124)
    cases = [random_case(rng) for _ in range(2000)]
    for case, got in zip(cases, js_quotes(cases), strict=True):
        want = quote(**case["tariff"], **case["colis"])
        assert (got["quantity"], got["amount"]) == (str(want.quantity), str(want.amount)), case
