"""Printable labels: the numéro de suivi as a QR code, drawn server-side as inline SVG."""

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(text: str) -> SafeString:
    """An inline <svg> QR code of `text`, sized by CSS (viewBox only, no width/height).

    Error correction M survives a scuffed label; segno escapes nothing we pass it
    beyond the data, which it encodes as modules, so the markup is safe to inline.
    """
    qr = segno.make(text, error="m", micro=False)
    return mark_safe(qr.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr",
                                   lineclass=None, title=text))
