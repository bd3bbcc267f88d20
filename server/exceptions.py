"""How the API answers an exception: as DRF does, but a 404 names no model.

DRF passes the message of Django's Http404 on as the answer's `detail`, and
get_object_or_404's says, in English whatever the request's language, which model it
looked for ("No ColisTask matches the given query."). Every API 404 says instead one
« not found » in the request's language, the same whether the row does not exist or is
not the caller's to see (as the pages' 404 does), so the views keep get_object_or_404.
"""

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Http404):
        exc = NotFound(_("Introuvable, ou hors de ce que votre compte peut voir."))
    return drf_exception_handler(exc, context)
