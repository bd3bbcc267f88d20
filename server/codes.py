"""Errors, refusals and steps as codes with parameters, rendered in the viewer's language.

The domain stores and sends codes (`{"code": "max_value", "params": {"limit": "2000"}}`);
only the edges turn them into sentences: the pages and the API (`errors`, `error_message`,
`current_step_label`) through this catalogue in the request's language, the PWA through its
own (pwa/js/codes.js). A code has one French source sentence here; en and zh-hans live in
locale/. Older rows that stored a French sentence are read back through LEGACY.
"""

from django.utils.translation import gettext_lazy as _

FIELD = {  # item and field errors
    "required": _("Ce champ est obligatoire."),
    "number_invalid": _("Un nombre valide est requis (chiffres et point décimal)."),
    "not_positive": _("Doit être strictement positif."),
    "min_value": _("Doit être au moins %(limit)s."),
    "max_value": _("Doit être au plus %(limit)s."),
    "max_places": _("Au plus %(limit)s décimale(s)."),
    "text_expected": _("Un texte est attendu."),
    "text_unstorable": _("Caractère invalide (caractère nul ou non Unicode)."),
    "text_too_long": _("Texte de %(limit)s caractères au plus."),
    "choice_invalid": _("Choix invalide."),
    "choice_invalid_of": _("Choix invalide : %(choices)s."),
    "lot_closed": _("Ce lot est fermé : choisissez un lot ouvert."),
    "lot_not_found": _("Lot introuvable."),
    "client_not_found": _("Client introuvable."),
    "colis_not_found": _("Colis introuvable."),
    "colis_id_required": _("Un identifiant de colis est requis."),
    "lot_type_mismatch": _("Le lot %(lot)s est de type %(type)s."),
    "uuid_invalid": _("Un UUID valide est requis."),
    "object_expected": _("Un objet est attendu."),
    "item_expected": _("Un objet {op_id, op, data} est attendu."),
    "datetime_invalid": _("Une date ISO 8601 avec fuseau est attendue."),
    "version_expected": _("Un entier positif est requis."),
    "no_editable_field": _("Aucun champ modifiable."),
    "version_conflict": _("La fiche a changé entre-temps (version actuelle : %(current)s)."),
    "op_id_reused": _("Cet op_id est déjà pris par d'autres données."),
    "server_refused": _("Le serveur refuse cet élément."),
    "open_lot_rate": _("Trop de lots ouverts en peu de temps : réessayez plus tard."),
    "too_large": _("Élément trop volumineux pour le serveur."),
    "lot_busy": _("Des tâches de ce lot sont encore en cours ou en attente."),
    "superseded_by_self": _("Une tâche ne peut pas se remplacer elle-même."),
    "numero_not_leased": _("Ce numéro de suivi n'est pas réservé à cette tablette."),
    "numero_used": _("Ce numéro de suivi est déjà utilisé par un autre colis."),
    "colis_fixed": _("Une correction reste sur son colis : elle ne peut pas en viser un autre."),
}
TASK = {  # a task's error_code
    "invalid": _("Données invalides : corrigez les champs signalés."),
    "lot_closed": _("Le lot est fermé : choisissez un autre lot."),
    "version_conflict": _("La fiche a changé entre-temps."),
    "transient": _("Erreur passagère du serveur : nouvel essai prévu."),
    "retries_exhausted": _("Échec après plusieurs essais : relancez la tâche."),
    "internal_error": _("Erreur interne du serveur : l'équipe technique est avertie."),
    "photo_rejected": _("Photo refusée."),
}
EVENT = {  # what a task event says happened (besides task codes and cancel reasons)
    "received": _("Reçu de l'appareil"),
    "retried": _("Relancée"),
    "resumed": _("Reprise : le traitement s'est interrompu"),
    "retry_scheduled": _("Nouvel essai programmé"),
    "conflict_resolved": _("Conflit résolu"),
    "agent_cancelled": _("Annulée par l'agent"),
    "moved_to_other_lot": _("Déplacé dans un autre lot"),
    "duplicate": _("Doublon"),
}
TECHNICAL = frozenset({"transient", "internal_error", "retries_exhausted"})  # detail kept aside
STEP = {  # a task's current_step (the code of its status), as a step people read
    "pending": _("En attente de traitement"),
    "processing": _("Vérification des données"),
    "image_uploading": _("Traitement de la photo"),
    "price_calculating": _("Calcul du prix"),
    "notification_sending": _("Notification du client"),
    "completed": _("Terminé"),
    "failed": _("Échec"),
    "failed_retry": _("Échec, nouvel essai prévu"),
    "failed_final": _("Échec définitif"),
    "cancelled": _("Annulé"),
}
# French sentences stored before the codes, and the codes they meant.
LEGACY = {
    "Reçu de l'appareil": "received",
    "Relancée": "retried",
    "Reprise : le traitement s'est interrompu": "resumed",
    "Nouvel essai programmé": "retry_scheduled",
    "Ce champ est obligatoire.": "required",
    "Un nombre valide est requis.": "number_invalid",
    "Doit être strictement positif.": "not_positive",
    "Choix invalide.": "choice_invalid",
    "Texte de 2000 caractères au plus.": "text_too_long",
    "Un UUID valide est requis.": "uuid_invalid",
    "Un identifiant de colis est requis.": "colis_id_required",
    "Un entier positif est requis.": "version_expected",
    "Aucun champ modifiable.": "no_editable_field",
    "Un objet est attendu.": "object_expected",
}


LEGACY_STEP = {
    "En attente de traitement": "pending",
    "Vérification des données": "processing",
    "Traitement de la photo": "image_uploading",
    "Calcul du prix": "price_calculating",
    "Notification du client": "notification_sending",
    "Terminé": "completed",
    "Échec": "failed",
    "Échec, nouvel essai prévu": "failed_retry",
    "Échec définitif": "failed_final",
    "Annulé": "cancelled",
}


def error(code: str, **params) -> str | dict:
    """One error as the domain records it: the bare code, or with its parameters (as text)."""
    return {"code": code, "params": {k: str(v) for k, v in params.items()}} if params else code


def entry(value) -> dict:
    """`value` (an error dict, a bare code, or a legacy sentence) as an error dict."""
    if isinstance(value, dict) and isinstance(value.get("code"), str):
        return {"code": value["code"], "params": dict(value.get("params") or {})}
    text = str(value)
    if text.startswith("version_conflict: current is "):
        return error("version_conflict", current=text.rsplit(" ", 1)[-1])
    code = LEGACY.get(text, text)
    if code in FIELD or code.isidentifier():
        return {"code": code, "params": {}}
    return {"code": "text", "params": {"text": text}}  # a sentence: shown as it is


def render(value, catalogue: dict = FIELD) -> str:
    """An error (or a bare code) as a sentence in the active language."""
    item = entry(value) if catalogue is FIELD else {"code": str(value), "params": {}}
    code, params = item["code"], item["params"]
    if code == "text":
        return params.get("text", "")
    sentence = catalogue.get(code)
    if sentence is None:
        return code
    try:
        return str(sentence) % params if params else str(sentence)
    except (KeyError, ValueError, TypeError):  # a parameter missing from an old row
        return str(sentence)


def codes_of(errors: dict) -> dict:
    """{field: [error dicts]} for the API's `error_codes` (a non-list value, like the current
    colis of a conflict, stays as it is)."""
    return {field: [entry(v) for v in values] if isinstance(values, list) else values
            for field, values in (errors or {}).items()}


def messages_of(errors: dict) -> dict:
    """{field: [sentences]} in the active language, for people and other API clients."""
    return {field: [render(v) for v in values] if isinstance(values, list) else values
            for field, values in (errors or {}).items()}


def task_message(code: str) -> str:
    return render(code, TASK) if code else ""


def step_label(step: str) -> str:
    return render(LEGACY_STEP.get(step, step), STEP) if step else ""


def step_code(step: str) -> str:
    """A stored current_step as its code (older rows hold the French sentence)."""
    return LEGACY_STEP.get(step, step)


def event_message(message: str) -> str:
    """A task event's message (a code, or an older sentence) in the active language."""
    code = LEGACY.get(message, message)
    for catalogue in (EVENT, TASK, FIELD):
        if code in catalogue:
            return render(code, catalogue)
    return message
