"""The API's JSON parser: DRF's, plus the limits that keep hostile bodies from becoming 500s."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser

# Our payloads nest three levels at most (profile → focus list → area object); 32 leaves room
# for any honest client and stops "[[[[…" bodies long before Python's recursion limit.
MAX_JSON_DEPTH = 32
# A lone UTF-16 surrogate ("\ud800") is valid JSON but not encodable text: it would crash the
# UTF-8 encoding of the 400 that echoes it, and PostgreSQL refuses it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _first_problem(data: Any) -> str | None:
    """Walk the parsed document without recursion; say what is wrong with it, if anything."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return (
                    "Text contains a lone surrogate (\\ud800-\\udfff), which is not valid Unicode."
                )
            continue
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                return f"JSON is nested more than {MAX_JSON_DEPTH} levels deep."
            items = (
                [item for pair in value.items() for item in pair]
                if isinstance(value, dict)
                else value
            )
            stack.extend((item, depth + 1) for item in items)
    return None


class SafeJSONParser(JSONParser):
    """JSON bodies that are too deep or carry unencodable text are a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        request = (parser_context or {}).get("request")
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "") if request is not None else ""
        if encoding.strip().lower() not in ("", "identity"):
            # Read as it came, a gzip body was "JSON parse error - 'utf-8' codec can't
            # decode…" (an API walk-through): say what is refused and what to send.
            raise UnsupportedMediaType(
                media_type or "",
                detail=f"A body with Content-Encoding “{encoding[:40]}” is not read; "
                "send it uncompressed.",
            )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep.") from exc
        problem = _first_problem(data)
        if problem:
            raise ParseError(problem)
        return data
