"""Run axe-core (vendored from npm) on a page; return its serious and critical violations."""

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


def violations(page: Page, impacts=("serious", "critical")) -> list[str]:
    """'rule: target' for each violation of `impacts` on the current page."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
      const r = await axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact,
        targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
    }""")
    return [f"{v['id']}: {', '.join(v['targets'])}" for v in result if v["impact"] in impacts]
