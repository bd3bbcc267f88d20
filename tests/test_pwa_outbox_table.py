"""pwa/js/outbox.js's one table of states, moves and actions (run under node): every state
has its moves and actions, every action has a label and a handler, and items in the states
the agents met show the actions that make sense (and only those)."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUTBOX = (ROOT / "pwa" / "js" / "outbox.js").as_uri()
RUNNER = f"""
import {{ STATES, MOVES, actionsFor }} from {json.dumps(OUTBOX)};
let input = '';
process.stdin.on('data', (d) => {{ input += d; }});
process.stdin.on('end', () => {{
  const items = JSON.parse(input);
  process.stdout.write(JSON.stringify({{ STATES, MOVES, actions: items.map(actionsFor) }}));
}});
"""
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
CASES = [  # (item, the actions it offers)
    ({"op": "create", "state": "queued"}, ["edit", "discard"]),
    ({"op": "create", "state": "invalid", "errors": {"poids": ["not_positive"]}},
     ["correct", "discard"]),
    ({"op": "create", "state": "invalid", "refused": True}, ["correct", "resend", "discard"]),
    ({"op": "create", "state": "invalid", "errors": {"lot": [{"code": "lot_closed"}]}},
     ["move", "correct", "discard"]),
    ({"op": "create", "state": "failed_final", "task": {"error_code": "lot_closed"}},
     ["move", "correct", "cancel"]),
    ({"op": "update", "state": "failed_final", "task": {"error_code": "version_conflict"}},
     ["resolve", "cancel"]),
    ({"op": "create", "state": "conflict", "task": {"error_code": ""}}, ["resolve", "discard"]),
    ({"op": "create", "state": "cancelling", "task": {}}, []),
    ({"op": "create", "state": "cancelled"}, []),
    ({"op": "create", "state": "completed", "task": {}}, ["edit", "photo"]),
    ({"op": "update", "state": "completed", "task": {}}, []),
    ({"op": "open_lot", "state": "failed_final", "task": {"error_code": "invalid"}},
     ["retry", "cancel"]),
    ({"op": "create", "state": "pending", "task": {}}, ["edit", "cancel"]),
    # Numbered (a leased numéro, or the server's): its label can be printed.
    ({"op": "create", "state": "queued", "data": {"numero_suivi": "CS26-000101-3"}},
     ["print", "edit", "discard"]),
    ({"op": "create", "state": "completed", "task": {"colis": {"numero_suivi": "CS26-000007-6"}}},
     ["print", "edit", "photo"]),
]


def run(items: list) -> dict:
    out = subprocess.run(["node", "--input-type=module", "-e", RUNNER], input=json.dumps(items),
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_it_gives_every_state_its_moves_and_actions():
    got = run([])
    assert set(got["STATES"]) == set(got["MOVES"])
    for state, moves in got["MOVES"].items():
        assert set(moves) <= set(got["STATES"]), state
    assert got["MOVES"]["completed"] == [] and got["MOVES"]["cancelled"] == []


def test_it_labels_and_handles_every_action():
    actions = {a for row in run([])["STATES"].values() for a in row["actions"]}
    actions |= {"resend", "move", "resolve"}
    queue = (ROOT / "pwa" / "js" / "views" / "queue.js").read_text()
    app = (ROOT / "pwa" / "js" / "app.js").read_text()
    labels = set(re.findall(r"^  (\w+): \(", queue[queue.index("ACTION_LABELS"):], re.M))
    handlers = set(re.findall(r"^  (\w+): ", app[app.index("const ITEM_ACTIONS"):], re.M))
    assert actions <= labels and actions <= handlers


def test_it_offers_what_makes_sense_in_each_state():
    got = run([item for item, _ in CASES])["actions"]
    assert got == [expected for _, expected in CASES]
