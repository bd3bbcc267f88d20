// Codes the server stores and sends instead of sentences, rendered here in the
// agent's language. French is the source; the catalogs translate it.

import { gettext } from './i18n.js';

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
