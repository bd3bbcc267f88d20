"""The user guides at /aide/: each language its file, French when one is missing, their
screenshots served from docs/screenshots alone, and nothing of the Markdown unescaped."""

import re
from html import escape

import pytest

from server.web import guides
from tests.web_helpers import web

DOCS = guides.DOCS


def first_heading(path) -> str:
    """The file's title as the page shows it (escaped)."""
    return escape(next(line.lstrip("# ").strip() for line in path.read_text().splitlines()
                       if line.startswith("# ")))


@pytest.mark.parametrize("lang, suffix", [("fr", ""), ("en", ".en"), ("zh-hans", ".zh-hans")])
def test_it_reads_the_agents_guide_in_the_viewers_language(lang, suffix):
    html = web().get("/aide/agents/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert first_heading(DOCS / f"guide-agent{suffix}.md") in html
    assert 'id="guide-fallback"' not in html


@pytest.mark.parametrize("lang, heading", [("en", "Supervisor"), ("fr", "superviseur"),
                                           ("zh-hans", "主管")])
def test_it_reads_the_supervisors_guide(lang, heading):
    html = web().get("/aide/superviseurs/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert heading in first_heading(DOCS / f"guide-supervisor{guides.SUFFIXES[lang]}.md")
    assert re.search(rf"<h1 [^>]*>[^<]*{heading}", html)
    assert 'id="guide-fallback"' not in html


def test_it_falls_back_to_french_when_a_translation_is_missing(tmp_path, monkeypatch):
    (tmp_path / "guide-supervisor.md").write_text("# Le guide en français\n\nBonjour.\n")
    monkeypatch.setattr(guides, "DOCS", tmp_path)
    response = web().get("/aide/superviseurs/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Le guide en français" in html and 'id="guide-fallback"' in html
    assert "本指南尚无您所选语言的版本" in html  # the note itself in the viewer's language


def test_it_answers_404_without_the_guides_files(tmp_path, monkeypatch):
    monkeypatch.setattr(guides, "DOCS", tmp_path)
    assert web().get("/aide/agents/", HTTP_ACCEPT_LANGUAGE="en").status_code == 404


def test_it_takes_the_language_the_app_asks_for():
    client = web()
    response = client.get("/aide/agents/?lang=zh-hans", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 302 and response["Location"] == "/aide/agents/"
    html = client.get("/aide/agents/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert first_heading(DOCS / "guide-agent.zh-hans.md") in html
    assert client.get("/aide/agents/?lang=xx").status_code == 302  # ignored, not a 500


def test_it_serves_the_screenshots_the_guides_show():
    html = web().get("/aide/agents/").content.decode()
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources and all(s.startswith("/aide/screenshots/") for s in sources)
    for src in set(sources):
        response = web().get(src)
        assert response.status_code == 200, src
        assert response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")


@pytest.mark.parametrize("name", ["..%2Fsettings.py", "../settings.py", "..", "settings.py",
                                  "..%2F..%2Fserver%2Fsettings.py", "guides.py", "PWA-FORM.PNG",
                                  ".png", "-x.png", "nothing-here.png", "%2Fetc%2Fpasswd"])
def test_it_refuses_any_other_file(name):
    assert web().get(f"/aide/screenshots/{name}").status_code == 404


def test_it_escapes_everything_the_markdown_holds():
    html = guides.markdown(
        "# Title <b>x</b>\n\n<script>alert(1)</script> [go](javascript:alert(1)) "
        '![a" onerror="x](../../server/settings.py) `<i>code</i>`\n')
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert "javascript:" not in html and "<img" not in html and "onerror=\"" not in html
    assert "&lt;script&gt;" in html and "<code>&lt;i&gt;code&lt;/i&gt;</code>" in html


def test_it_links_a_heading_as_github_does():
    html = guides.markdown("## 10. 运单号和标签（离线也可以）\n\n## 6. Quand le serveur refuse un élément\n")
    assert 'id="10-运单号和标签离线也可以"' in html
    assert 'id="6-quand-le-serveur-refuse-un-élément"' in html


def test_it_links_every_anchor_of_the_guides_to_a_heading():
    for path in DOCS.glob("guide-*.md"):
        html = guides.markdown(path.read_text())
        ids = set(re.findall(r'id="([^"]+)"', html))
        anchors = set(re.findall(r'href="#([^"]+)"', html))
        assert anchors <= ids, f"{path.name}: {anchors - ids}"


def test_it_renders_what_the_guides_use():
    html = guides.markdown(
        "## Sending\n\nA **bold** and *light* word, a [link](guide-supervisor.md#devices).\n\n"
        "- one\n  continued\n- two\n\n1. first\n2. second\n\n| state | meaning |\n|---|---|\n"
        "| « Envoyé » | sent |\n\n> A note.\n\n![The queue](screenshots/guide-agent-queue-fr.png)\n")
    assert '<h2 id="sending">Sending</h2>' in html
    assert "<strong>bold</strong>" in html and "<em>light</em>" in html
    assert '<a href="/aide/superviseurs/#devices">link</a>' in html
    assert "<ul><li>one continued</li><li>two</li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert "<td>« Envoyé »</td><td>sent</td>" in html
    assert "<blockquote><p>A note.</p></blockquote>" in html
    assert '<img src="/aide/screenshots/guide-agent-queue-fr.png" alt="The queue"' in html


@pytest.mark.parametrize("who, guide", [("alice", "/aide/agents/"), ("charlie", "/aide/superviseurs/")])
def test_it_links_each_visitor_to_their_guide_from_the_menu(alice, charlie, who, guide):
    html = web({"alice": alice, "charlie": charlie}[who]).get("/taches/").content.decode()
    assert re.search(rf'<a href="{guide}"[^>]*>Aide</a>', html)
