"""« Importer une file d'attente »: a supervisor brings a tablet's exported outbox in."""

from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from server import codes
from sync import imports

from .access import supervisor

TEMPLATE = "web/import.html"
REFUSALS = {  # sync.imports.ImportRefused codes, for people
    "no_file": _("Choisissez le fichier exporté par la tablette (colis-outbox-….json)."),
    "too_big": _("Fichier trop grand : %(max)s au plus."),
    "not_json": _("Ce fichier n'est pas du JSON lisible."),
    "not_outbox": _("Ce fichier n'est pas une file d'attente exportée par l'application."),
    "unknown_version": _("Version de fichier inconnue (%(version)s) : ce serveur lit la "
                         "version 1."),
    "no_user": _("Le fichier ne nomme pas l'agent qui l'a exporté."),
    "unknown_user": _("L'utilisateur « %(user)s » n'existe pas sur ce serveur."),
    "not_agent": _("« %(user)s » n'est pas un agent actif : sa file ne peut pas être importée."),
    "admin_queue": _("« %(user)s » est administrateur : seul un administrateur peut importer "
                     "sa file."),
}
PHOTO_CODES = {
    "photo_malformed": _("Photo illisible dans le fichier."),
    "photo_no_item": _("Aucun colis reçu ne l'attend (élément refusé ou absent)."),
    "upload_too_big": _("Photo trop grande pour un envoi."),
}


@supervisor
@require_http_methods(["GET", "POST"])
def import_outbox(request):
    if request.method != "POST":
        return render(request, TEMPLATE)
    try:
        summary = imports.import_outbox(request.FILES.get("file"), request.user)
    except imports.ImportRefused as refused:
        return render(request, TEMPLATE, {"error": refusal_text(refused)}, status=400)
    return render(request, TEMPLATE, {"summary": summary, "invalid": readable(summary.invalid),
                                      "conflict": readable(summary.conflict),
                                      "photos_left": [(p, PHOTO_CODES.get(c, c))
                                                      for p, c in summary.photos_left]})


def refusal_text(refused: imports.ImportRefused) -> str:
    params = dict(refused.params)
    if "max" in params:
        params["max"] = filesizeformat(params["max"])
    return str(REFUSALS[refused.code]) % params


def readable(rows: list) -> list:
    """(op_id, [(field, sentences)]) for each refused item, codes put into words."""
    return [(op_id, [(name, [_sentence(m) for m in _as_list(messages)])
                     for name, messages in errors.items()])
            for op_id, errors in rows]


def _sentence(message) -> str:
    return codes.render(message)


def _as_list(messages) -> list:
    return messages if isinstance(messages, list) else [messages]
