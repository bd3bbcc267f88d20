"""The supervisors' pages in Chinese on a phone (390 px) and a tablet (800 px): a lot number,
a numéro de suivi, an age, a count or a badge is never split over two lines, a Chinese
header never between two characters, and a table too wide for the screen scrolls inside
its card rather than crushing its columns or widening the page."""

import os
from collections import Counter
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from sync.models import ColisTask

from .test_web_screenshots import SHOTS, _login, demo  # noqa: F401 - the fixture, a working day

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNSPLIT = ".code, time, .badge, td.num, .nowrap, table.figures td:not(.label), th"
# (selector, lines) of each element of `selector` in <main> showing text on more than one
# line; a header may wrap at a space or a comma (« Saisie p50 / p95 », « 录入到完成，平均 »),
# so only those without one count. A stacked cell with its column's label (a grid) shows its
# value, aside and badge one under the other: each of them counts, on one line.
SPLIT = """(selector) => {
  // (a pair, « avg / p95 », may wrap at its slash: each of its values counts)
  const parts = (el) => (el.dataset.label && getComputedStyle(el).display === 'grid')
    ? [...el.childNodes].filter((n) => n.nodeType === 1 || n.textContent.trim())
      .flatMap((n) => (n.classList?.contains('pair') ? [...n.children] : [n])) : [el];
  const lines = (el) => Math.max(...parts(el).map((part) => {
    const range = document.createRange();
    range.selectNodeContents(part);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0)
      .sort((a, b) => a.top - b.top);
    let n = 0, bottom = -Infinity;
    for (const r of rects) {
      if (r.top >= bottom - 1) { n += 1; bottom = r.bottom; } else bottom = Math.max(bottom, r.bottom);
    }
    return n;
  }));
  return [...document.querySelectorAll('main ' + selector.split(', ').join(', main '))]
    .filter((el) => !(el.tagName === 'TH' && /[\\s，、,]/.test(el.textContent.trim())))
    .map((el) => [el.outerHTML.slice(0, 120), lines(el)]).filter(([, n]) => n > 1);
}"""


@pytest.fixture
def chinese(browser):
    def open_at(width: int, lang: str = "zh-hans"):
        locale = {"zh-hans": "zh-CN", "fr": "fr-FR", "en": "en-US"}[lang]
        context = browser.new_context(viewport={"width": width, "height": 844}, locale=locale,
                                      extra_http_headers={"Accept-Language": lang})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page

    contexts = []
    yield open_at
    for context in contexts:
        context.close()


@pytest.mark.parametrize("width", [390, 800])
def test_it_never_splits_a_code_or_crushes_a_table_in_chinese(server, demo, chinese, width):  # noqa: F811
    page = chinese(width)
    _login(page, server.url, "charlie")
    for path in ["/supervision/", "/lots/", f"/lots/{demo['lot'].pk}/", "/resultats/"]:
        page.goto(server.url + path)
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        assert page.locator(f"main :is({UNSPLIT})").count() > 5, path
        assert page.evaluate(SPLIT, UNSPLIT) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    if width == 390:  # the agents' eleven columns: wider than a phone, scrolled, not crushed
        page.goto(server.url + "/supervision/")
        agents = page.locator(".scroll:has(table.sync)")
        assert agents.evaluate("(el) => el.scrollWidth > el.clientWidth")


# Each body cell of « Résultats »' tables but the row's own name: [table, its column's
# header, the cell's data-label, the label its ::before shows ("none": none), where the
# cell's content starts from the cell's left edge, as a share of its width].
LABELS = """() => [...document.querySelectorAll('main table.figures')].flatMap((table) => {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
  return [...table.querySelectorAll('tbody tr')].flatMap((tr) => [...tr.cells]
    .filter((td) => td.colSpan === 1 && !td.classList.contains('row-head')).map((td) => {
      const range = document.createRange();
      range.selectNodeContents(td);
      const box = td.getBoundingClientRect();
      const left = Math.min(...[...range.getClientRects()].map((r) => r.left));
      const label = getComputedStyle(td, '::before').content;
      return [table.id, heads[td.cellIndex], td.dataset.label || null,
              label === 'none' ? label : JSON.parse(label), (left - box.left) / box.width];
    }));
})"""


@pytest.mark.parametrize("lang, value", [("fr", "Valeur"), ("en", "Value"), ("zh-hans", "数值")])
def test_it_names_each_stacked_cell_of_the_results_on_a_phone(server, demo, chinese, lang,  # noqa: F811
                                                              value):
    page = chinese(390, lang)
    _login(page, server.url, "charlie")
    page.goto(server.url + "/resultats/")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("#targets thead")).to_be_hidden()  # stacked: no header row
    cells = page.evaluate(LABELS)
    assert {table for table, *_ in cells} == {"targets", "by-day", "by-agent"}
    per_table = Counter(table for table, *_ in cells)
    # seven figures of four columns, two agents of seven; a day of eight, or two when the
    # demo's day, spread over the last 21 h 15, began before midnight (Asia/Shanghai)
    assert per_table["targets"] == 7 * 4 and per_table["by-agent"] == 2 * 7, per_table
    assert per_table["by-day"] in (8, 16), per_table
    for table, head, label, shown, start in cells:
        assert head and label == head and shown == head, (table, head, label, shown)
        assert start > 0.3, (table, head)  # the value beside its label, not under it
    assert cells[0][1] == value
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"web-results-390-{lang}.png"), full_page=True)
    page.set_viewport_size({"width": 800, "height": 844})  # a table again: the header says it
    expect(page.locator("#targets thead")).to_be_visible()
    assert {shown for *_, shown, _ in page.evaluate(LABELS)} == {"none"}


@pytest.mark.parametrize("lang", ["fr", "en", "zh-hans"])
def test_it_wraps_a_long_pair_of_durations_at_its_slash_on_a_phone(server, demo, chinese, lang):  # noqa: F811
    """« 132 h 31 min / 132 h 31 min » is wider than a phone's stacked cell: it goes on two
    lines at « / », each duration whole and none cut off."""
    task = demo["done"][0]
    ColisTask.objects.filter(pk=task.pk).update(
        saved_at=task.completed_at - timedelta(hours=132, minutes=31))
    page = chinese(390, lang)
    _login(page, server.url, "charlie")
    page.goto(server.url + "/resultats/")
    pair = page.locator("#by-day td .pair", has_text="132")
    expect(pair).to_have_count(1)
    assert page.evaluate(SPLIT, UNSPLIT) == []
    assert pair.evaluate("(el) => el.getClientRects().length > 0 && el.offsetHeight > "
                         "el.firstElementChild.offsetHeight")  # on two lines
    cut = page.evaluate("""() => [...document.querySelectorAll('main table.figures td')]
        .filter((td) => td.scrollWidth > td.clientWidth + 1).map((td) => td.outerHTML)""")
    assert cut == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"web-results-long-390-{lang}.png"), full_page=True)
