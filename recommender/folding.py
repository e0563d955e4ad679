"""Text folded for a learner's search of their own notes: case and accents ignored.

"cafe" finds "café", "STRASSE" finds "Straße" and "securite" finds "sécurité": each
character is decomposed (NFKD), its combining marks dropped and the rest case-folded. The
notes are few enough per learner to be folded in Python, on SQLite and PostgreSQL alike,
without a database extension (PostgreSQL's unaccent needs one).
"""

from __future__ import annotations

import unicodedata


def folded(text: str) -> str:
    """``text`` without case or accents, for comparison."""
    return folded_with_origins(text)[0]


def folded_with_origins(text: str) -> tuple[str, list[int]]:
    """``text`` folded, and for each of its characters the index in ``text`` it came from
    (so a match in the folded text can be marked in the original)."""
    characters: list[str] = []
    origins: list[int] = []
    for index, character in enumerate(text):
        for part in unicodedata.normalize("NFKD", character):
            if unicodedata.combining(part):
                continue
            for folded_part in part.casefold():
                characters.append(folded_part)
                origins.append(index)
    return "".join(characters), origins


def found_spans(text: str, search: str) -> list[tuple[int, int]]:
    """Where ``search`` occurs in ``text``, case and accents ignored: (start, end) indices
    into ``text``, left to right, not overlapping."""
    wanted = folded(search)
    if not wanted:
        return []
    haystack, origins = folded_with_origins(text)
    spans: list[tuple[int, int]] = []
    at = haystack.find(wanted)
    while at != -1:
        start, end = origins[at], origins[at + len(wanted) - 1] + 1
        if not spans or start >= spans[-1][1]:
            spans.append((start, end))
        at = haystack.find(wanted, at + len(wanted))
    return spans
