"""How much a list's search box takes (the API's `?search=` of DRF's SearchFilter and the
admin's `?q=`): both make one LIKE per word and field, and a hostile-input sweep's 1,000
words ("Expression tree is too large") or 60,000 characters ("LIKE or GLOB pattern too
complex") made SQLite fail with a 500. The catalog's own search (catalog.search) has its own
bounds.
"""

from __future__ import annotations

from typing import Final

SEARCH_MAX_CHARS: Final = 200
SEARCH_MAX_WORDS: Final = 20
SEARCH_TOO_LONG: Final = (
    f"Search for at most {SEARCH_MAX_WORDS} words and {SEARCH_MAX_CHARS} characters."
)


def search_too_long(text: str) -> bool:
    return len(text) > SEARCH_MAX_CHARS or len(text.split()) > SEARCH_MAX_WORDS


def search_shortened(text: str) -> str:
    """The search cut to the bounds: its first words, then its first characters."""
    return " ".join(text.split()[:SEARCH_MAX_WORDS])[:SEARCH_MAX_CHARS]
