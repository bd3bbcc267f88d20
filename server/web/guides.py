"""The user guides (docs/guide-*.md) as pages, and their screenshots.

The files are ours, but the converter still escapes every character of them and knows only
the few constructs the guides use (headings, paragraphs, lists, tables, quotes, code,
emphasis, links, images): no raw HTML ever reaches the page. A guide is read in the
viewer's language (its `.en.md`, `.zh-hans.md` file), in French when that file is missing.
"""

import re
from html import escape
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

DOCS = Path(settings.BASE_DIR) / "docs"
SCREENSHOTS = DOCS / "screenshots"
GUIDES = {"agents": ("guide-agent", _("Guide de l'agent")),
          "superviseurs": ("guide-supervisor", _("Guide du superviseur"))}
SUFFIXES = {"fr": "", "en": ".en", "zh-hans": ".zh-hans"}
# A screenshot's name: letters, digits and dashes, .png; nothing that walks out of the folder.
IMAGE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\.png")


def language() -> str:
    """The active language as one of SUFFIXES' keys."""
    lang = (translation.get_language() or "fr").lower()
    if lang.startswith("zh"):
        return "zh-hans"
    lang = lang.split("-")[0]
    return lang if lang in SUFFIXES else "fr"


def guide_file(stem: str, lang: str) -> tuple[Path, bool]:
    """The guide's file in `lang`, or the French one; and whether it fell back to French."""
    own = DOCS / f"{stem}{SUFFIXES.get(lang, '')}.md"
    if own.is_file():
        return own, False
    return DOCS / f"{stem}.md", lang != "fr"


def guide(request: HttpRequest, slug: str) -> HttpResponse:
    """A guide in the viewer's language. `?lang=xx` (the app's link) chooses it for good."""
    if "lang" in request.GET:
        response = redirect(request.path)
        if request.GET["lang"] in SUFFIXES:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, request.GET["lang"],
                                samesite="Lax")
        return response
    stem, title = GUIDES[slug]
    path, fallback = guide_file(stem, language())
    if not path.is_file():  # a deployment without docs/
        raise Http404
    other = "superviseurs" if slug == "agents" else "agents"
    return render(request, "web/guide.html", {
        "title": title, "body": markdown(path.read_text(encoding="utf-8")),
        "fallback": fallback, "other_url": reverse(f"guides:{other}"),
        "other_title": GUIDES[other][1]})


def screenshot(request: HttpRequest, name: str) -> FileResponse:
    """A PNG of docs/screenshots, by a checked name."""
    path = SCREENSHOTS / name
    if not IMAGE_NAME.fullmatch(name) or not path.is_file():
        raise Http404
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=3600"
    return response


# The converter.

HEADING = re.compile(r"(#{1,6})\s+(.*?)\s*#*$")
BULLET = re.compile(r"[-*]\s+(.*)")
NUMBERED = re.compile(r"\d+[.)]\s+(.*)")
TABLE_RULE = re.compile(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?")
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
STRONG = re.compile(r"\*\*(.+?)\*\*")
EMPHASIS = re.compile(r"(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])")


def image_src(src: str) -> str | None:
    """Where an image of a guide is served from: only docs/screenshots' PNGs."""
    name = src.removeprefix("screenshots/")
    if name != src and IMAGE_NAME.fullmatch(name):
        return reverse("guides:screenshot", args=[name])
    return None


def link_href(href: str) -> str | None:
    """A link's target on the site: another guide, an anchor, a page of ours, or the web."""
    guide_link = re.fullmatch(r"guide-(agent|supervisor)(?:\.[a-z-]+)?\.md(#[\w-]+)?", href)
    if guide_link:
        slug = "agents" if guide_link[1] == "agent" else "superviseurs"
        return reverse(f"guides:{slug}") + (guide_link[2] or "")
    if re.match(r"(#|/(?!/)|https?://)", href):
        return href
    return None  # another file of the repository: shown as text


def inline(text: str) -> str:
    """Escape `text` and render its code spans, images, links and emphasis."""
    out = []
    for i, part in enumerate(re.split(r"`([^`]+)`", text)):
        out.append(f"<code>{escape(part)}</code>" if i % 2 else spans(escape(part)))
    return "".join(out)


def spans(html: str) -> str:
    def img(m: re.Match) -> str:
        src = image_src(m[2])
        return f'<img src="{src}" alt="{m[1]}" loading="lazy">' if src else m[1]

    def link(m: re.Match) -> str:
        href = link_href(m[2].replace("&amp;", "&"))
        return f'<a href="{escape(href)}">{m[1]}</a>' if href else m[1]

    html = LINK.sub(link, IMAGE.sub(img, html))
    return EMPHASIS.sub(r"<em>\1</em>", STRONG.sub(r"<strong>\1</strong>", html))


def slugify(text: str) -> str:
    """A heading's anchor as GitHub makes it, so one link works there and here: punctuation
    dropped, spaces made dashes."""
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def markdown(text: str) -> str:
    """The guides' Markdown as HTML, every character of the source escaped."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
        elif stripped.startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```")),
                       len(lines))
            out.append(f"<pre><code>{escape(chr(10).join(lines[i + 1:end]))}</code></pre>")
            i = end + 1
        elif m := HEADING.fullmatch(stripped):
            level = len(m[1])
            out.append(f'<h{level} id="{escape(slugify(m[2]))}">{inline(m[2])}</h{level}>')
            i += 1
        elif stripped.startswith("|") and i + 1 < len(lines) and TABLE_RULE.fullmatch(lines[i + 1].strip()):
            i = table(lines, i, out)
        elif BULLET.fullmatch(stripped) or NUMBERED.fullmatch(stripped):
            i = listing(lines, i, out)
        elif stripped.startswith(">"):
            quote = []
            while i < len(lines) and lines[i].strip().startswith(">"):
                quote.append(lines[i].strip()[1:].strip())
                i += 1
            out.append(f"<blockquote><p>{inline(' '.join(quote))}</p></blockquote>")
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not starts_block(lines[i].strip()):
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{inline(' '.join(para))}</p>")
    return "\n".join(out)


def starts_block(stripped: str) -> bool:
    return bool(HEADING.fullmatch(stripped) or BULLET.fullmatch(stripped)
                or NUMBERED.fullmatch(stripped) or stripped.startswith(("```", ">", "|")))


def table(lines: list[str], i: int, out: list[str]) -> int:
    head = "".join(f"<th>{inline(c)}</th>" for c in cells(lines[i]))
    rows, i = [], i + 2
    while i < len(lines) and lines[i].strip().startswith("|"):
        rows.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in cells(lines[i])) + "</tr>")
        i += 1
    out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return i


def listing(lines: list[str], i: int, out: list[str]) -> int:
    """A list: its items, each with the indented lines that continue it."""
    tag = "ol" if NUMBERED.fullmatch(lines[i].strip()) else "ul"
    marker = NUMBERED if tag == "ol" else BULLET
    items: list[list[str]] = []
    while i < len(lines) and lines[i].strip():
        stripped = lines[i].strip()
        m = marker.fullmatch(stripped)
        if m and not lines[i].startswith("  "):
            items.append([m[1]])
        elif items and lines[i].startswith(" "):
            items[-1].append(stripped)
        else:
            break
        i += 1
    body = "".join(f"<li>{inline(' '.join(item))}</li>" for item in items)
    out.append(f"<{tag}>{body}</{tag}>")
    return i
