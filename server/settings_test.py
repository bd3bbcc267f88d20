"""Settings for the test suite: the real settings, with a secret and a fast hasher."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret")
os.environ.setdefault("FAST_PASSWORD_HASHER", "1")

from server.settings import *  # noqa: E402,F403
