"""Settings for the test suite: the real settings, with a secret and a fast hasher."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret")
os.environ.setdefault("FAST_PASSWORD_HASHER", "1")
# Redis counters outlive each test's rolled-back rows (the same user ids come back):
# no lot limit unless a test sets one (tests/test_security_open_lot.py does).
os.environ.setdefault("OPEN_LOT_RATE", "")

from server.settings import *  # noqa: E402,F403
