"""Bench-only settings: the real ones, plus the naive baseline's route (bench/urls.py)."""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("FAST_PASSWORD_HASHER", "1")
os.environ.setdefault("SECURE_COOKIES", "0")

from server.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.urls"
