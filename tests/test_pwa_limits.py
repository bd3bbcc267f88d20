"""pwa/js/limits.js refuses what the server refuses, with the same limits (run under node)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server import codes, inputs
from server.cargo import services

ROOT = Path(__file__).resolve().parent.parent
LIMITS = (ROOT / "pwa" / "js" / "limits.js").as_uri()
RUNNER = f"""
import {{ MEASURES, MAX_DESCRIPTION, measureProblem, textProblem }} from {json.dumps(LIMITS)};
let input = '';
process.stdin.on('data', (d) => {{ input += d; }});
process.stdin.on('end', () => {{
  const {{ measures, texts }} = JSON.parse(input);
  process.stdout.write(JSON.stringify({{ MEASURES, MAX_DESCRIPTION,
    measures: measures.map(([name, text]) => measureProblem(name, text)),
    texts: texts.map((text) => textProblem(text)) }}));
}});
"""
SAMPLES = ["12.5", "0.01", "0.009", "2000", "2000.001", "600", "600.1", "0.1", "0.05", "1e-25",
           "1E3", "NaN", "Infinity", "-3", "0", "٣", "²", "12.3456", "12.3450", "40.55", "", " 12 ",
           "1.", ".5", "+1", "0x10", "1_0", "12,5"]

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run_js(measures: list, texts: list) -> dict:
    # ensure_ascii keeps lone surrogates as JSON escapes, which JSON.parse reads back.
    out = subprocess.run(["node", "--input-type=module", "-e", RUNNER],
                         input=json.dumps({"measures": measures, "texts": texts}),
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def py_measure(name: str, text: str):
    problem = inputs.decimal_field(text.strip(), **services.MEASURES[name])[1]
    return codes.render(problem) if problem else None


def js_message(problem) -> str | None:
    return problem[0].replace("%(limit)s", str(problem[1].get("limit"))) if problem else None


def test_it_holds_the_servers_limits():
    got = run_js([], [])
    assert got["MAX_DESCRIPTION"] == services.MAX_DESCRIPTION
    for name, limit in services.MEASURES.items():
        assert {k: str(v) if k != "places" else v for k, v in limit.items()} == got["MEASURES"][name]


def test_it_gives_the_servers_verdict_and_message_on_samples():
    cases = [[name, text] for name in services.MEASURES for text in SAMPLES]
    got = run_js(cases, [])["measures"]
    for (name, text), problem in zip(cases, got, strict=True):
        assert js_message(problem) == py_measure(name, text), (name, text)


@settings(max_examples=25, deadline=None)
@given(texts=st.lists(st.text(alphabet=st.characters(codec=None), max_size=30), max_size=20),
       numbers=st.lists(st.from_regex(r"-?[0-9]{0,5}(\.[0-9]{0,5})?", fullmatch=True),
                        max_size=20))
def test_it_agrees_with_the_server_on_any_text_and_number(texts, numbers):
    got = run_js([["poids", n] for n in numbers], texts)
    for number, problem in zip(numbers, got["measures"], strict=True):
        assert js_message(problem) == py_measure("poids", number), number
    for text, problem in zip(texts, got["texts"], strict=True):
        expected = inputs.text_problem(text, services.MAX_DESCRIPTION)
        assert js_message(problem) == (codes.render(expected) if expected else None), text
