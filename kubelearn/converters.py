"""URL path converters shared by every app."""

from __future__ import annotations

from django.urls import register_converter

# Eighteen digits stay below the largest 64-bit integer (9,223,372,036,854,775,807), so an id
# from the address always fits the database's integer column. A longer number cannot name a row:
# it simply matches no address (404), instead of reaching the database and overflowing there
# (SQLite raises OverflowError for integers beyond 64 bits).
ID_MAX_DIGITS = 18
ID_MAX = 10**ID_MAX_DIGITS - 1


class IdConverter:
    regex = f"[0-9]{{1,{ID_MAX_DIGITS}}}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


# Registered on import: each urls.py that uses <id:…> imports this module first.
register_converter(IdConverter, "id")
