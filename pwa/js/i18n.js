// Translations: French is the source language; English and simplified Chinese
// come from Django's JavaScriptCatalog (/app/jsi18n/?lang=…), cached offline by
// the service worker. Strings are marked with gettext('…') for makemessages.

export const LANGUAGES = [['fr', 'Français'], ['en', 'English'], ['zh-hans', '简体中文']];
const KEY = 'colis.lang';

/** The chosen language code; until one is chosen, the browser's first language the app
 * speaks (a Chinese tablet opens in Chinese), else French. */
export function currentLanguage() {
  const lang = globalThis.localStorage?.getItem(KEY);
  return LANGUAGES.some(([code]) => code === lang) ? lang : browserLanguage();
}

function browserLanguage() {
  for (const tag of globalThis.navigator?.languages || []) {
    const code = tag.toLowerCase();
    if (code.startsWith('zh')) return 'zh-hans';
    if (code.startsWith('en')) return 'en';
    if (code.startsWith('fr')) return 'fr';
  }
  return 'fr';
}

/** Remember the chosen language (the page reloads to apply it). */
export function chooseLanguage(lang) {
  localStorage.setItem(KEY, lang);
}

/** Load the catalog of `lang` (a classic script that defines globalThis.django). */
export function loadCatalog(lang = currentLanguage()) {
  document.documentElement.lang = lang;
  if (lang === 'fr') return Promise.resolve(false);
  return new Promise((resolve) => {
    const script = document.createElement('script');
    script.src = `/app/jsi18n/?lang=${encodeURIComponent(lang)}`;
    script.onload = () => resolve(true);
    script.onerror = () => resolve(false);  // French it is, rather than nothing
    document.head.append(script);
  });
}

/** Translate a French source string. */
export function gettext(message) {
  return globalThis.django?.gettext ? globalThis.django.gettext(message) : message;
}

/** Translate singular/plural by count. */
export function ngettext(singular, plural, count) {
  if (globalThis.django?.ngettext) return globalThis.django.ngettext(singular, plural, count);
  return count > 1 ? plural : singular;
}

/** Fill %(name)s placeholders. */
export function fmt(text, params = {}) {
  return text.replace(/%\((\w+)\)s/g, (_, key) => String(params[key] ?? ''));
}

/** « Label : value » as each language writes it (« Label: value », « 标签：值 »). */
export function labelled(label, value) {
  return fmt(gettext('%(label)s : %(value)s'), { label, value });
}

/** Format a number for the current language. */
export function number(value, digits = 0) {
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value ?? '');
  return new Intl.NumberFormat(currentLanguage() === 'zh-hans' ? 'zh-CN' : currentLanguage(),
    { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
}

/** Format a date-time for the current language. */
export function dateTime(iso) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(currentLanguage() === 'zh-hans' ? 'zh-CN' : currentLanguage(),
    { dateStyle: 'short', timeStyle: 'medium' });
}

/** A byte count as Ko / Mo. */
export function bytes(n) {
  if (n < 1024 * 1024) return `${number(n / 1024, 0)} ${gettext('Ko')}`;
  return `${number(n / 1024 / 1024, 1)} ${gettext('Mo')}`;
}
