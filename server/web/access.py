"""Who may see the dashboards: a session login; supervisors for « Synchronisation »; admins for RQ."""

from collections.abc import Callable
from functools import wraps

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme

LOGIN_URL = reverse_lazy("web:login")


def login(view: Callable) -> Callable:
    """Anonymous visitors go to the dashboards' own login page."""
    return login_required(view, login_url=LOGIN_URL)


def forbidden(request) -> HttpResponse:
    """The 403 page in the viewer's language: a wrong role is no error to log a traceback for."""
    return render(request, "403.html", status=403)


def supervisor(view: Callable) -> Callable:
    """Supervisors and admins only: an agent gets 403, an anonymous visitor the login page."""

    @wraps(view)
    def check(request, *args, **kwargs):
        if not request.user.is_supervisor:
            return forbidden(request)
        return view(request, *args, **kwargs)

    return login(check)


def registrar(view: Callable) -> Callable:
    """Agents (and admins) who register colis; opening a lot is one of their writes."""

    @wraps(view)
    def check(request, *args, **kwargs):
        if not request.user.can_register_colis:
            return forbidden(request)
        return view(request, *args, **kwargs)

    return login(check)


def queue_admin(view: Callable) -> Callable:
    """The RQ pages: staff admins only (User.can_manage_queues); supervisors get 403.

    django-rq's templates carry inline scripts and styles: these admin-only pages alone
    allow them.
    """
    @wraps(view)
    def check(request, *args, **kwargs):
        if not request.user.can_manage_queues:
            return forbidden(request)
        return view(request, *args, **kwargs)

    relaxed = csp_update({"script-src": [UNSAFE_INLINE], "style-src": [UNSAFE_INLINE]})
    return login_required(relaxed(check),
                          login_url="/admin/login/")


def next_url(request, default: str) -> str:
    """The `next` the form carried, when it is a path on this site; else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return str(default)
