"""The supervisors' pages in Chinese on a phone (390 px) and a tablet (800 px): a lot number,
a numéro de suivi, an age, a count or a badge is never split over two lines, a Chinese
header never between two characters, and a table too wide for the screen scrolls inside
its card rather than crushing its columns or widening the page."""

import os

import pytest
from playwright.sync_api import expect

from .test_web_screenshots import _login, demo  # noqa: F401 - the fixture, a working day

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNSPLIT = ".code, time, .badge, td.num, .nowrap, table.figures td:not(.label), th"
# (selector, lines) of each element of `selector` in <main> showing text on more than one
# line; a header may wrap at a space or a comma (« Saisie p50 / p95 », « 录入到完成，平均 »),
# so only those without one count.
SPLIT = """(selector) => {
  const lines = (el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0)
      .sort((a, b) => a.top - b.top);
    let n = 0, bottom = -Infinity;
    for (const r of rects) {
      if (r.top >= bottom - 1) { n += 1; bottom = r.bottom; } else bottom = Math.max(bottom, r.bottom);
    }
    return n;
  };
  return [...document.querySelectorAll('main ' + selector.split(', ').join(', main '))]
    .filter((el) => !(el.tagName === 'TH' && /[\\s，、,]/.test(el.textContent.trim())))
    .map((el) => [el.outerHTML.slice(0, 120), lines(el)]).filter(([, n]) => n > 1);
}"""


@pytest.fixture
def chinese(browser):
    def open_at(width: int):
        context = browser.new_context(viewport={"width": width, "height": 844}, locale="zh-CN",
                                      extra_http_headers={"Accept-Language": "zh-hans"})
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
