"""Colis sync settings: one file, read from the environment (12-factor).

Every default runs locally: SQLite under var/, the embedded Redis that
`make run` and `make test` start (see server/embedded_redis.py), files on disk.
"""

import os
import socket
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def envlist(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = envbool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if not DEBUG else "*")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_rq",
    "axes",
    "server.accounts",
    "server.cargo",
    "server.notifications",
    "sync",
    "server.web",
]

MIDDLEWARE = [
    "sync.counters.SyncRequestCounter",  # first: counts the 500 of an exception anywhere
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into its 429
]

ROOT_URLCONF = "server.urls"
WSGI_APPLICATION = "server.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "server" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Database: DATABASE_URL, else a SQLite file under var/.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker processes share the file: WAL lets readers run beside one
    # writer, IMMEDIATE takes the write lock up front (no deadlock on upgrade),
    # and the timeout waits for the lock instead of failing at once.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Worker processes started by the tests must see the test database: a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
if envbool("FAST_PASSWORD_HASHER"):  # tests: hashing is not what they measure
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "/admin/login/"
# axes first: it refuses a locked-out username or address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend",
                           "django.contrib.auth.backends.ModelBackend"]

# Time and language: stored times are UTC; the warehouses' clock is Shanghai.
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English")), ("zh-hans", _("简体中文"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [("pwa", BASE_DIR / "pwa")]
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Raw tus uploads: their own storage, outside MEDIA_ROOT, never served (sync/uploads.py).
UPLOADS_ROOT = Path(os.environ.get("UPLOADS_ROOT", VAR_DIR / "uploads"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "uploads": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": UPLOADS_ROOT}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# A photo's signed URL (object storage) lives this long; a browser keeps the redirect half.
PHOTO_URL_EXPIRES = envint("PHOTO_URL_EXPIRES", 300)


def s3_storages(env, expires: int) -> dict:
    """STORAGES' photos and raw uploads in one S3-compatible bucket (AWS, MinIO, Alibaba
    OSS, Tencent COS), under two prefixes, from S3_* in `env`. Private: no ACL, every URL
    signed and valid `expires` seconds."""
    options = {"bucket_name": env["S3_BUCKET"], "endpoint_url": env.get("S3_ENDPOINT_URL") or None,
               "access_key": env.get("S3_ACCESS_KEY_ID") or None,
               "secret_key": env.get("S3_SECRET_ACCESS_KEY") or None,
               "region_name": env.get("S3_REGION") or None,
               "addressing_style": env.get("S3_ADDRESSING_STYLE") or None,
               "signature_version": "s3v4", "default_acl": None, "querystring_auth": True,
               "querystring_expire": expires, "file_overwrite": True}
    backend = "storages.backends.s3.S3Storage"
    media, raw = env.get("S3_MEDIA_PREFIX", "media"), env.get("S3_UPLOADS_PREFIX", "uploads")
    return {"default": {"BACKEND": backend, "OPTIONS": {**options, "location": media}},
            "uploads": {"BACKEND": backend, "OPTIONS": {**options, "location": raw}}}


def s3_origins(bucket: str, endpoint: str) -> list[str]:
    """Where a browser fetches a signed photo URL from (CSP img-src): path or virtual style."""
    if not endpoint:
        return [f"https://{bucket}.s3.amazonaws.com", "https://*.amazonaws.com"]
    parts = urlsplit(endpoint)
    return [f"{parts.scheme}://{parts.netloc}", f"{parts.scheme}://{bucket}.{parts.netloc}"]


S3_BUCKET = os.environ.get("S3_BUCKET", "")
if S3_BUCKET:
    STORAGES.update(s3_storages(os.environ, PHOTO_URL_EXPIRES))
# Private photos (server/photos.py): read by Django, or handed to nginx under this internal
# location by X-Accel-Redirect (e.g. /protected/), or a 302 to object storage's signed URL.
PHOTOS_X_ACCEL = os.environ.get("PHOTOS_X_ACCEL", "")

# Redis and RQ. Unset REDIS_URL means the embedded Redis on its fixed port.
EMBEDDED_REDIS_PORT = envint("EMBEDDED_REDIS_PORT", 6391)
REDIS_URL = os.environ.get("REDIS_URL", f"redis://127.0.0.1:{EMBEDDED_REDIS_PORT}/0")
RQ_QUEUES = {
    "colis": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300},
    "notifications": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60},
}
RQ_SHOW_ADMIN_LINK = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "server.accounts.auth.DeviceTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["server.parsers.JSONParser",
                               "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "server.exceptions.exception_handler",  # a 404 names no model
    "DEFAULT_PAGINATION_CLASS": "server.pagination.Pagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_RATES": {"login": os.environ.get("LOGIN_THROTTLE", "10/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Colis sync API",
    "DESCRIPTION": "Offline-first colis registration: batches, task status, uploads.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {"TypeLotEnum": "server.cargo.models.TypeLot"},
}

# The cache holds the throttles' counters: Redis, so every process and node shares them.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                      "LOCATION": REDIS_URL, "KEY_PREFIX": "colis"}}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "colis@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
ADMINS = [(address, address) for address in envlist("ADMINS", "")]  # the sweeper's alerts

# Domain limits.
DEVICE_SEEN_EVERY = envint("DEVICE_SEEN_EVERY", 60)  # seconds between last_seen_at writes
TOKEN_IDLE_DAYS = envint("TOKEN_IDLE_DAYS", 60)  # a device token unused this long is refused
OPEN_LOT_RATE = os.environ.get("OPEN_LOT_RATE", "20/hour")  # lots one user may open; empty: no limit

# Sync pipeline.
COLIS_ASYNC = envbool("COLIS_ASYNC", "1")  # 0: materialise inline in the request
SYNC_MAX_BATCH = envint("SYNC_MAX_BATCH", 200)  # items per POST /api/v1/sync/
SYNC_MAX_BODY = envint("SYNC_MAX_BODY", 2 * 1024 * 1024)  # bytes per POST /api/v1/sync/
DATA_UPLOAD_MAX_MEMORY_SIZE = max(SYNC_MAX_BODY, 2621440) + 1024
CHANGES_PAGE = envint("CHANGES_PAGE", 200)
RETRY_BACKOFF = [int(s) for s in envlist("RETRY_BACKOFF", "30,120,600")]  # seconds
TASK_STUCK_AFTER = envint("TASK_STUCK_AFTER", 180)  # no heartbeat for this long: worker died
PHOTO_MAX_ATTEMPTS = envint("PHOTO_MAX_ATTEMPTS", 3)  # claims of a photo before the sweeper gives up
PENDING_GRACE = envint("PENDING_GRACE", 30)  # pending this long with no job: re-enqueue
SWEEP_INTERVAL = envint("SWEEP_INTERVAL", 10)
ALERT_FAILED_FINAL = envint("ALERT_FAILED_FINAL", 10)
ALERT_PENDING_AGE = envint("ALERT_PENDING_AGE", 600)
ALERT_EVERY = envint("ALERT_EVERY", 3600)  # seconds between two alerts of one kind (mail, webhook)
# The sweeper's alerts go to ADMINS by mail and to this webhook, signed as client notices are.
ALERT_WEBHOOK_URL = os.environ.get("ALERT_WEBHOOK_URL", "")
SWEEPER_LOCK_TTL = envint("SWEEPER_LOCK_TTL", 60)  # a dead sweeper's lock frees itself this late
# Operations: the node that answers (health), Prometheus' /metrics (no token: 404).
NODE_NAME = os.environ.get("NODE_NAME", "") or socket.gethostname()
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
FAULT_DRILL_STEP_DELAY = float(os.environ.get("FAULT_DRILL_STEP_DELAY", 0))  # tests and bench only

# Client notifications: channels among log, email, webhook.
NOTIFY_CHANNELS = envlist("NOTIFY_CHANNELS", "log")
NOTIFY_WEBHOOK_URL = os.environ.get("NOTIFY_WEBHOOK_URL", "")
NOTIFY_WEBHOOK_SECRET = os.environ.get("NOTIFY_WEBHOOK_SECRET", "")
NOTIFY_WEBHOOK_TIMEOUT = envint("NOTIFY_WEBHOOK_TIMEOUT", 5)
ALERT_WEBHOOK_URL = ALERT_WEBHOOK_URL or (NOTIFY_WEBHOOK_URL if "webhook" in NOTIFY_CHANNELS else "")

# Photos (tus uploads).
TUS_MAX_SIZE = envint("TUS_MAX_SIZE", 15 * 1024 * 1024)
UPLOAD_EXPIRES = envint("UPLOAD_EXPIRES", 24 * 3600)  # seconds
UPLOAD_MAX_OPEN = envint("UPLOAD_MAX_OPEN", 20)  # unfinished uploads per user; 0: no limit
UPLOAD_MAX_BYTES_PER_DAY = envint("UPLOAD_MAX_BYTES_PER_DAY", 500 * 1024 * 1024)  # per user, UTC day
# An outbox file a supervisor imports (/supervision/import/): photos included, base64.
IMPORT_MAX_BYTES = envint("IMPORT_MAX_BYTES", 200 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The zone's offset on every line: the clock is TIME_ZONE's (Django sets the process's
    # TZ to it), and make run puts honcho and gunicorn on the same one.
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s",
                             "datefmt": "%Y-%m-%d %H:%M:%S%z"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Security. The client address is REMOTE_ADDR unless TRUSTED_PROXY_COUNT proxies of ours
# stand in front (nginx: 1); then X-Forwarded-For's entry that the outermost one wrote.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT

# Failed logins (device, /login/, /admin/login/), counted in Redis per address and per
# username by django-axes: LOGIN_FAILURE_LIMIT failures lock out for LOGIN_LOCKOUT_MINUTES.
AXES_HANDLER = "server.accounts.throttles.LockoutHandler"  # axes' cache handler, fail-open
AXES_CACHE = "default"
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_CLIENT_IP_CALLABLE = "server.accounts.throttles.client_ip"
AXES_LOCKOUT_CALLABLE = "server.accounts.throttles.lockout_response"
AXES_ENABLE_ADMIN = False  # its admin pages show the database handler's rows, not ours

# Content-Security-Policy on every response: scripts and styles from files of this site only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *envlist("CSP_IMG_SRC", ""),
                    *(s3_origins(S3_BUCKET, os.environ.get("S3_ENDPOINT_URL", ""))
                      if S3_BUCKET else [])],  # signed photo URLs
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 12 * 3600)  # a page login lasts a working day
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD")
if envbool("PROXY_SSL_HEADER"):  # only behind a proxy that sets (and strips) the header
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "1")
    CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", "1")
