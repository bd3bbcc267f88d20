// Shared labels of the views (French source strings, translated by gettext).

import { gettext } from '../i18n.js';

/** Label of a display bucket. */
export function bucketLabel(bucket) {
  return {
    device: gettext('Sur la tablette'),
    sent: gettext('Envoyé'),
    processing: gettext('En traitement'),
    completed: gettext('Terminé'),
    failed: gettext('Échec'),
    cancelled: gettext('Annulé'),
  }[bucket] || bucket;
}

/** Label of a lot type. */
export function typeLabel(type) {
  return { cargo: gettext('Cargo (aérien)'), express: gettext('Express (aérien)'),
    bateau: gettext('Bateau (maritime)') }[type] || type;
}

/** Label of a payment mode. */
export function paiementLabel(mode) {
  return { non_paye: gettext('Non payé'), paye_chine: gettext('Payé en Chine'),
    paye_destination: gettext('Payé à destination') }[mode] || mode;
}

/** Label of a form field (for error lists). */
export function fieldLabel(field) {
  return { lot: gettext('Lot'), lot_op_id: gettext('Lot'), client: gettext('Client'),
    type_transport: gettext('Type de transport'), poids: gettext('Poids (kg)'),
    longueur: gettext('Longueur (cm)'), largeur: gettext('Largeur (cm)'),
    hauteur: gettext('Hauteur (cm)'), mode_paiement: gettext('Mode de paiement'),
    description: gettext('Description'), photo_id: gettext('Photo'),
    base_version: gettext('Version'), numero_suivi: gettext('Numéro de suivi'),
    __all__: gettext('Colis') }[field] || field;
}

/** Label of the server's photo state. */
export function photoLabel(state) {
  return { none: gettext('Sans photo'), awaiting: gettext('Photo attendue'),
    processing: gettext('Photo en traitement'), ready: gettext('Photo prête'),
    failed: gettext('Photo en échec') }[state] || state;
}

export const TYPES = ['cargo', 'express', 'bateau'];
export const PAIEMENTS = ['non_paye', 'paye_chine', 'paye_destination'];
export const EDITABLE = ['client', 'poids', 'longueur', 'largeur', 'hauteur', 'mode_paiement',
  'description'];
