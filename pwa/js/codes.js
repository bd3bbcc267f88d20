// Codes the server stores and sends instead of sentences, rendered here in the
// agent's language. French is the source; the catalogs translate it.

import { fmt, gettext } from './i18n.js';

/** The sentence for a photo's `photo_error` code; an unknown code is shown as it came. */
export function photoError(code) {
  return {
    photo_empty: gettext('Le fichier photo est vide (0 octet).'),
    photo_not_image: gettext("Ce fichier n'est pas une photo acceptée (JPEG, PNG, WebP ou HEIC)."),
    photo_unreadable: gettext('La photo est tronquée ou illisible : reprenez-la.'),
    photo_too_big: gettext('La photo est trop grande (plus de 40 mégapixels).'),
    photo_missing: gettext('La photo reçue est introuvable sur le serveur : renvoyez-la.'),
    photo_gave_up: gettext("La photo n'a pas pu être traitée après plusieurs essais : reprenez-la."),
  }[code] || String(code);
}

/** An error as the server sends it ({code, params}, or a bare code) as {code, params}. */
export function asError(entry) {
  if (entry && typeof entry === 'object' && typeof entry.code === 'string') return { code: entry.code, params: entry.params || {} };
  return { code: String(entry ?? ''), params: {} };
}

/** The code of an error, whatever its form. */
export function codeOf(entry) {
  return asError(entry).code;
}

/** A field error in the agent's language (server/codes.py FIELD, same codes). */
export function fieldError(entry) {
  const { code, params } = asError(entry);
  const text = {
    required: gettext('Ce champ est obligatoire.'),
    number_invalid: gettext('Un nombre valide est requis (chiffres et point décimal).'),
    not_positive: gettext('Doit être strictement positif.'),
    min_value: gettext('Doit être au moins %(limit)s.'),
    max_value: gettext('Doit être au plus %(limit)s.'),
    max_places: gettext('Au plus %(limit)s décimale(s).'),
    text_expected: gettext('Un texte est attendu.'),
    text_unstorable: gettext('Caractère invalide (caractère nul ou non Unicode).'),
    text_too_long: gettext('Texte de %(limit)s caractères au plus.'),
    choice_invalid: gettext('Choix invalide.'),
    choice_invalid_of: gettext('Choix invalide : %(choices)s.'),
    lot_closed: gettext('Ce lot est fermé : choisissez un lot ouvert.'),
    lot_not_found: gettext('Lot introuvable.'),
    client_not_found: gettext('Client introuvable.'),
    colis_not_found: gettext('Colis introuvable.'),
    colis_id_required: gettext('Un identifiant de colis est requis.'),
    lot_type_mismatch: gettext('Le lot %(lot)s est de type %(type)s.'),
    uuid_invalid: gettext('Un UUID valide est requis.'),
    object_expected: gettext('Un objet est attendu.'),
    item_expected: gettext('Un objet {op_id, op, data} est attendu.'),
    datetime_invalid: gettext('Une date ISO 8601 avec fuseau est attendue.'),
    version_expected: gettext('Un entier positif est requis.'),
    no_editable_field: gettext('Aucun champ modifiable.'),
    version_conflict: gettext('La fiche a changé entre-temps (version actuelle : %(current)s).'),
    op_id_reused: gettext("Cet op_id est déjà pris par d'autres données."),
    server_refused: gettext('Le serveur refuse cet élément : corrigez-le, renvoyez-le, exportez la file ou annulez-le.'),
    open_lot_rate: gettext('Trop de lots ouverts en peu de temps : réessayez plus tard.'),
    too_large: gettext('Élément trop volumineux pour le serveur.'),
    lot_busy: gettext('Des tâches de ce lot sont encore en cours ou en attente.'),
    superseded_by_self: gettext('Une tâche ne peut pas se remplacer elle-même.'),
    numero_not_leased: gettext("Ce numéro de suivi n'est pas réservé à cette tablette."),
    numero_used: gettext('Ce numéro de suivi est déjà utilisé par un autre colis.'),
    colis_fixed: gettext('Une correction reste sur son colis : elle ne peut pas en viser un autre.'),
  }[code];
  if (text) return fmt(text, params);
  return code === 'text' ? String(params.text || '') : code;
}

/** A failed task's reason in the agent's language (server/codes.py TASK). */
export function taskError(task) {
  const text = {
    invalid: gettext('Données invalides : corrigez les champs signalés.'),
    lot_closed: gettext('Le lot est fermé : choisissez un autre lot.'),
    version_conflict: gettext('La fiche a changé entre-temps.'),
    transient: gettext('Erreur passagère du serveur : nouvel essai prévu.'),
    retries_exhausted: gettext('Échec après plusieurs essais : relancez la tâche.'),
    internal_error: gettext("Erreur interne du serveur : l'équipe technique est avertie."),
    photo_rejected: gettext('Photo refusée.'),
  }[task?.error_code];
  return text || task?.error_message || '';
}

/** A task's step in the agent's language (server/codes.py STEP). */
export function stepLabel(code) {
  return {
    pending: gettext('En attente de traitement'),
    processing: gettext('Vérification des données'),
    image_uploading: gettext('Traitement de la photo'),
    price_calculating: gettext('Calcul du prix'),
    notification_sending: gettext('Notification du client'),
    completed: gettext('Terminé'),
    failed: gettext('Échec'),
    failed_retry: gettext('Échec, nouvel essai prévu'),
    failed_final: gettext('Échec définitif'),
    cancelled: gettext('Annulé'),
  }[code] || String(code || '');
}
