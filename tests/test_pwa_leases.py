"""pwa/js/leases.js (run under node) writes the numéros the server's numbering writes: the
tablet formats the leased numbers itself, check digit included."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from server.cargo import numbering

LEASES = (Path(__file__).resolve().parent.parent / "pwa" / "js" / "leases.js").as_uri()
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
CASES = [("26", 1), ("26", 42), ("26", 4217), ("27", 999_999), ("99", 123_456), ("00", 7)]


def test_it_formats_numeros_as_the_server_does():
    runner = (f"import {{ formatNumero }} from {json.dumps(LEASES)};"
              f"const cases = {json.dumps(CASES)};"
              "process.stdout.write(JSON.stringify(cases.map(([y, s]) => formatNumero(y, s))));")
    out = subprocess.run(["node", "--input-type=module", "-e", runner], capture_output=True,
                         text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == [numbering.format_numero_suivi(y, s) for y, s in CASES]
