"""pwa/js/encoding.js: WebP where the browser really encodes it, JPEG elsewhere (run under node)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ENCODING = (Path(__file__).resolve().parent.parent / "pwa" / "js" / "encoding.js").as_uri()
# `makes` maps a requested type to the blob type the fake canvas returns (absent: PNG,
# what convertToBlob gives for a type it cannot encode).
RUNNER = f"""
import {{ WEBP, JPEG, chooseEncoding }} from {json.dumps(ENCODING)};
const makes = JSON.parse(process.argv[1]);
const asked = [];
const chosen = await chooseEncoding(async (type) => {{
  asked.push(type);
  if (makes[type] === 'throw') throw new Error('NotSupportedError');
  return makes[type] ?? 'image/png';
}});
process.stdout.write(JSON.stringify({{ WEBP, JPEG, chosen, asked }}));
"""

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def choose(makes: dict) -> dict:
    out = subprocess.run(["node", "--input-type=module", "-e", RUNNER, json.dumps(makes)],
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_it_takes_webp_where_the_browser_encodes_it():
    got = choose({"image/webp": "image/webp", "image/jpeg": "image/jpeg"})
    assert got["chosen"] == got["WEBP"] and got["chosen"]["type"] == "image/webp"
    assert got["asked"] == ["image/webp"]


def test_it_falls_back_to_jpeg_when_webp_comes_back_as_png():
    got = choose({"image/jpeg": "image/jpeg"})
    assert got["chosen"] == got["JPEG"] and got["chosen"]["type"] == "image/jpeg"
    assert got["asked"] == ["image/webp", "image/jpeg"]


def test_it_still_says_jpeg_when_the_probe_gives_nothing_it_asked_for():
    assert choose({})["chosen"]["type"] == "image/jpeg"


def test_it_falls_back_to_jpeg_when_the_webp_probe_throws():
    got = choose({"image/webp": "throw", "image/jpeg": "image/jpeg"})
    assert got["chosen"]["type"] == "image/jpeg"


def test_it_keeps_qualities_between_zero_and_one():
    got = choose({})
    assert 0 < got["WEBP"]["quality"] <= 1 and 0 < got["JPEG"]["quality"] <= 1
