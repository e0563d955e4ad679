"""The API's JSON parser: DRF's, plus the limits that keep hostile bodies from becoming 500s."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import QueryDict
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

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


_UNDECODABLE = re.compile(r"can't decode byte (0x[0-9a-f]{2}) in position (\d+)")


def _plain_parse_error(detail: str) -> str:
    """DRF's parse error in the client's words: Python's own ("'utf-8' codec can't decode byte
    0xff in position 6", "Unexpected UTF-8 BOM (decode using utf-8-sig)") told a client what
    our code would have to do (a hostile-input sweep)."""
    if "BOM" in detail:
        return "JSON parse error - the body starts with a byte order mark: send it without one."
    undecodable = _UNDECODABLE.search(detail)
    if undecodable:
        byte, position = undecodable.groups()
        return (
            f"JSON parse error - the body is not UTF-8 text (byte {byte} at position "
            f"{position}): send JSON encoded as UTF-8."
        )
    return detail


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
        except ParseError as exc:
            raise ParseError(_plain_parse_error(str(exc.detail))) from exc
        problem = _first_problem(data)
        if problem:
            raise ParseError(problem)
        return data


class StrictFormParser(FormParser):
    """A form-encoded body whose text is not in its charset (UTF-8) is a 400. Django decodes
    such bytes as replacement characters, so `text=a%ff%fe` was saved as a note reading "a��"
    (a hostile-input sweep), where the same bytes in JSON were refused."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        body = stream.read()
        for part in body.split(b"&"):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode(encoding)
            except UnicodeDecodeError as exc:
                raise ParseError(
                    f"The form body is not {encoding} text: send its values encoded as {encoding}."
                ) from exc
            except LookupError as exc:
                raise ParseError("The form body's charset is not one we read.") from exc
        return QueryDict(body, encoding=encoding)


class StrictMultiPartParser(MultiPartParser):
    """DRF's multipart parser, with a missing boundary said in the client's words: "Invalid
    boundary in multipart: None" came through from Django (a hostile-input sweep)."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as exc:
            if "boundary" not in str(exc.detail).lower():
                raise
            raise ParseError(
                "Multipart form parse error - the Content-Type names no usable boundary "
                "(multipart/form-data; boundary=…): let your HTTP library build the form, or "
                "send JSON."
            ) from exc
