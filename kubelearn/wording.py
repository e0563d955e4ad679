"""How numbers are said on pages and in messages (the same way everywhere)."""

from __future__ import annotations


def spoken_size(count: int) -> str:
    """A byte count as curators read it: "10 MiB", "2.5 MiB", "64 KiB", "900 bytes"."""
    # A feed's failure said "more than the 10485760 byte limit" (a walk-through).
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= size:
            return f"{count / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{count} byte" + ("" if count == 1 else "s")


def counted(count: int, noun: str) -> str:
    """ "1 feed", "3 feeds": a message's count ("1 resource(s) approved" read as a
    form, not a sentence)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
