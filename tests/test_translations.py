"""Every word the PWA and the pages show exists in English and Chinese: a string marked for
translation with no translation fails here, before an agent reads French in Guangzhou."""

import gettext
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE_NAMES = {"English", "Français", "简体中文"}  # each shown in its own language
JS_MARKED = re.compile(r"""\b(?:gettext|gettext_noop)\(\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")""")
ENTRY = re.compile(r'^(#, fuzzy\n)?msgid "((?:[^"\\]|\\.)*)"\n(?:msgid_plural "(?:[^"\\]|\\.)*"\n)?'
                   r'(msgstr(?:\[\d\])? "((?:[^"\\]|\\.)*)"\n?)+', re.M)


def catalogue(lang: str, domain: str) -> dict[str, str]:
    """msgid → msgstr (the first form for plurals; "" when fuzzy or missing)."""
    text = (ROOT / "locale" / lang / "LC_MESSAGES" / f"{domain}.po").read_text()
    out = {}
    for m in ENTRY.finditer(text):
        msgid = m.group(2).replace('\\"', '"')
        first = re.search(r'msgstr(?:\[0\])? "((?:[^"\\]|\\.)*)"', m.group(0))
        out[msgid] = "" if m.group(1) else first.group(1)
    return out


def js_strings() -> set[str]:
    found = set()
    for path in (ROOT / "pwa").rglob("*.js"):
        if "vendor" in path.parts:
            continue
        for m in JS_MARKED.finditer(path.read_text()):
            raw = m.group(1) if m.group(1) is not None else m.group(2)
            found.add(raw.replace("\\'", "'").replace('\\"', '"'))
    return found


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_it_translates_every_string_of_the_pwa(lang):
    known = catalogue(lang, "djangojs")
    missing = sorted(s for s in js_strings() if not known.get(s) and s != "…")
    assert missing == [], f"{len(missing)} PWA strings without a {lang} translation"


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_it_leaves_no_entry_of_the_catalogues_empty_or_fuzzy(lang, domain):
    known = catalogue(lang, domain)
    assert known, "the catalogue did not parse"
    empty = sorted(msgid for msgid, msgstr in known.items()
                   if msgid and not msgstr and msgid not in LANGUAGE_NAMES)
    assert empty == []


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_it_ships_compiled_catalogues_that_match_their_sources(lang, domain):
    """The .mo files are committed: one compiled before the last .po edit would serve French."""
    with open(ROOT / "locale" / lang / "LC_MESSAGES" / f"{domain}.mo", "rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog
    stale = sorted(msgid for msgid, msgstr in catalogue(lang, domain).items()
                   if msgid and msgstr and "\\" not in msgstr + msgid
                   and compiled.get(msgid) is None and compiled.get((msgid, 0)) is None)
    assert stale == [], "run: python manage.py compilemessages"


GLOSSARY = {k: v for k, v in json.loads((ROOT / "locale" / "glossary.json").read_text()).items()
            if not k.startswith("_")}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\{[^}]*\}\}")


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_it_says_the_trades_words_as_the_glossary_does(lang, domain):
    """The pages said « Batch » where the app said « Lot »: one glossary, every catalogue."""
    off = []
    for msgid, msgstr in catalogue(lang, domain).items():
        text = PLACEHOLDER.sub(" ", msgid)
        for french, words in GLOSSARY.items():
            if (msgstr and re.search(rf"(?<![\w-]){re.escape(french)}(?![\w-])", text, re.I)
                    and words[lang].lower() not in msgstr.lower()):
                off.append(f"{french!r} in {msgid!r} → {msgstr!r}")
    assert off == []


# The same French in the app and on the pages, said differently on purpose: a menu's
# « Colis » (the parcels) and the form's field « Colis » (one parcel).
CONTEXTS = {"Colis"}


@pytest.mark.parametrize("lang", ["en", "zh_Hans"])
def test_the_app_and_the_pages_say_the_same_words_the_same_way(lang):
    """A task « Terminé » read « Completed » on the board and « Done » on the tablet."""
    pages, app = catalogue(lang, "django"), catalogue(lang, "djangojs")
    differ = [f"{msgid!r}: {pages[msgid]!r} ≠ {app[msgid]!r}"
              for msgid in sorted(pages.keys() & app.keys() - CONTEXTS)
              if pages[msgid] and app[msgid] and pages[msgid] != app[msgid]]
    assert differ == []
