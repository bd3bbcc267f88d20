"""`make run` prints the URL and the demo logins again once every process answers."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from server import devrun


class Health(BaseHTTPRequestHandler):
    workers = 0

    def do_GET(self):  # noqa: N802 - http.server's name
        body = json.dumps({"ok": True, "workers": Health.workers}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_it_announces_the_url_and_logins_once_a_worker_answers(capsys):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    try:
        Health.workers = 0
        devrun.announce_when_ready(url, timeout=1.5)  # the web answers, no worker yet
        assert "did not answer" in capsys.readouterr().out
        Health.workers = 1
        devrun.announce_when_ready(url, timeout=10)
        out = capsys.readouterr().out
    finally:
        server.shutdown()
    assert f"Colis sync: {url}" in out and "Every process answers" in out
    assert "agent_guangzhou" in out and "superviseur" in out and "colis2026" in out


def test_it_says_when_nothing_answers(capsys):
    devrun.announce_when_ready("http://127.0.0.1:9/", timeout=1)
    assert "did not answer within 1 s" in capsys.readouterr().out
