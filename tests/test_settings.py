import os
import subprocess
import sys

from django.core.management import call_command


def _import_settings(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    return subprocess.run([sys.executable, "-c", "import server.settings"],
                          env={**clean, **env}, capture_output=True, text=True)


def test_it_refuses_to_start_without_a_secret_outside_debug():
    result = _import_settings({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_starts_with_a_dev_secret_in_debug():
    assert _import_settings({"DEBUG": "1"}).returncode == 0


def test_it_starts_with_a_secret_outside_debug():
    assert _import_settings({"DEBUG": "0", "SECRET_KEY": "s3cret"}).returncode == 0


def test_it_has_no_missing_migrations(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
