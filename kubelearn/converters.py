"""URL path converters shared by every app."""

from __future__ import annotations

from django.urls import register_converter

# Eighteen digits stay below the largest 64-bit integer (9,223,372,036,854,775,807), so an id
# from the address always fits the database's integer column. A longer number cannot name a row:
# it simply matches no address (404), instead of reaching the database and overflowing there
# (SQLite raises OverflowError for integers beyond 64 bits).
ID_MAX_DIGITS = 18
ID_MAX = 10**ID_MAX_DIGITS - 1


# ASCII digits only: Python's int() also reads "+28", " 28", "2_8" and full-width or
# Arabic-Indic digits, and a router's default pattern let each of them name row 28 (a DELETE
# through a full-width id deleted a resource: a hostile-input sweep). Routers take it as
# `lookup_value_regex`.
ID_REGEX = f"[0-9]{{1,{ID_MAX_DIGITS}}}"


class IdConverter:
    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


# Registered on import: each urls.py that uses <id:…> imports this module first.
register_converter(IdConverter, "id")
