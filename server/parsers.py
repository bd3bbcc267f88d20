"""The API's JSON parser: malformed, too deep or too nested JSON is a 400, never a 500."""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from server import inputs


class TooDeep(ParseError):
    def __init__(self):
        super().__init__(_("JSON trop imbriqué (au plus %(depth)s niveaux).")
                         % {"depth": inputs.MAX_DEPTH})


class JSONParser(parsers.JSONParser):
    """DRF's parser, plus: a RecursionError (JSON nested ~1000 deep) and anything nested
    deeper than inputs.MAX_DEPTH are refused before any code walks the data."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise TooDeep() from exc
        if inputs.depth_exceeds(data):
            raise TooDeep()
        return data
