"""Who is asking, and how often: the client address rule and the login throttles.

One rule for the client address, used by DRF's throttles and by django-axes:
REMOTE_ADDR, unless TRUSTED_PROXY_COUNT proxies we run stand in front of us; then
the address that the outermost of them saw, counted from the right of
X-Forwarded-For (the entries to its left are the client's own word, and an
attacker's). Every counter lives in the default cache, Redis, so all web
processes and nodes share it. While Redis is unreachable the counters let
logins through (logged): people can still log in, as the sync keeps working.
"""

import logging

from axes.handlers.cache import AxesCacheHandler
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from redis import RedisError
from rest_framework.throttling import SimpleRateThrottle

log = logging.getLogger(__name__)


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For's entry set by our outermost proxy."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    return hops[-min(count, len(hops))] if hops else remote


class LoginRateThrottle(SimpleRateThrottle):
    """Every device-login request, per client address (LOGIN_THROTTLE, e.g. 10/min).

    Failed passwords are counted apart, per address and per username, by django-axes.
    """

    scope = "login"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError:
            log.exception("login throttle: Redis unreachable, request let through")
            return True


class LockoutHandler(AxesCacheHandler):
    """django-axes' cache handler, letting logins through (logged) while Redis is unreachable."""

    def get_failures(self, request, credentials=None) -> int:
        try:
            return super().get_failures(request, credentials)
        except RedisError:
            log.exception("login lockout: Redis unreachable, failures not read")
            return 0

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        try:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        except RedisError:
            log.exception("login lockout: Redis unreachable, failure not counted")


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out login: 429, JSON for the API, a page otherwise."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": "login_locked", "code": "login_locked",
                                 "retry_after": int(retry_after)}, status=429)
    else:
        response = TemplateResponse(request, "web/lockout.html", {"minutes": minutes}, status=429)
        response.render()
    response["Retry-After"] = retry_after
    return response
