// The server's limits on what an agent types, applied at save time so the agent learns
// at once (server/cargo/services.py MEASURES; tests/test_pwa_limits.py keeps them equal).

export const MEASURES = {
  poids: { minimum: '0.01', maximum: '2000', places: 3 },
  longueur: { minimum: '0.1', maximum: '600', places: 1 },
  largeur: { minimum: '0.1', maximum: '600', places: 1 },
  hauteur: { minimum: '0.1', maximum: '600', places: 1 },
};
export const MAX_DESCRIPTION = 2000;
const PLAIN = /^-?(\d{1,12})(?:\.(\d{1,12}))?$/;
// Marks the messages for makemessages; the form translates them with gettext.
const gettext_noop = (message) => message;

/**
 * Why the server would refuse `text` as the measure `name`: [French message, params] for
 * gettext and fmt, or null when it is a plain decimal within the limits.
 */
export function measureProblem(name, text) {
  const { minimum, maximum, places } = MEASURES[name];
  const value = String(text ?? '').trim();
  if (!value) return [gettext_noop('Ce champ est obligatoire.'), {}];
  const match = PLAIN.exec(value);
  if (!match) return [gettext_noop('Un nombre valide est requis (chiffres et point décimal).'), {}];
  const number = Number(value);
  if (number <= 0) return [gettext_noop('Doit être strictement positif.'), {}];
  if (number < Number(minimum)) return [gettext_noop('Doit être au moins %(limit)s.'), { limit: minimum }];
  if (number > Number(maximum)) return [gettext_noop('Doit être au plus %(limit)s.'), { limit: maximum }];
  if ((match[2] || '').replace(/0+$/, '').length > places) return [gettext_noop('Au plus %(limit)s décimale(s).'), { limit: places }];
  return null;
}

/** Why the server would refuse `text` as a description, or null. */
export function textProblem(text, maxLength = MAX_DESCRIPTION) {
  if (/\u0000/.test(text) || /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)) {
    return [gettext_noop('Caractère invalide (caractère nul ou non Unicode).'), {}];
  }
  if ([...text].length > maxLength) return [gettext_noop('Texte de %(limit)s caractères au plus.'), { limit: maxLength }];
  return null;
}
