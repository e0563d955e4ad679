"""OPML import and export of feeds: the format feed readers exchange."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from catalog import fetching
from catalog.addresses import InvalidAddress, canonical_url
from catalog.models import Feed
from catalog.opml import OpmlError, OpmlOutline, opml_export, opml_parse
from catalog.polling import fetch_policy

logger = logging.getLogger(__name__)

__all__ = ["OpmlError", "OpmlImportResult", "feeds_export_opml", "feeds_import_opml"]


@dataclass
class OpmlImportResult:
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.added)} feed(s) added, {len(self.existing)} already present"
        if self.refused:
            reasons = "; ".join(f"{url}: {why}" for url, why in self.refused[:5])
            text += f", {len(self.refused)} refused ({reasons})"
        return text + "."


def feeds_import_opml(*, content: bytes, trusted: bool = False) -> OpmlImportResult:
    """Add every feed in an OPML document. Addresses get the same safety checks as any feed;
    their content is checked at their first poll, which is due at once."""
    outlines = opml_parse(content)
    policy = fetch_policy()
    result = OpmlImportResult()
    for outline in outlines:
        try:
            url = canonical_url(outline.xml_url)
            fetching.check_url(
                url,
                allow_private_networks=policy.allow_private_networks,
                allowed_networks=policy.allowed_networks,
            )
        except (InvalidAddress, fetching.FetchError) as exc:
            result.refused.append((outline.xml_url, str(exc)))
            continue
        with transaction.atomic():
            _, created = Feed.objects.get_or_create(
                url=url,
                defaults={
                    "title": outline.title[:300],
                    "site_url": _safe_site(outline.html_url),
                    "trusted": trusted,
                    "next_poll_at": timezone.now(),
                },
            )
        (result.added if created else result.existing).append(url)
    logger.info("OPML import: %s", result.summary())
    return result


def _safe_site(address: str | None) -> str:
    if not address:
        return ""
    try:
        return canonical_url(address)
    except InvalidAddress:
        return ""


def feeds_export_opml(*, feeds: Iterable[Feed]) -> bytes:
    outlines = [
        OpmlOutline(
            xml_url=feed.url,
            title=feed.title,
            html_url=feed.site_url or None,
            category=feed.author.name if feed.author_id else None,
        )
        for feed in feeds
    ]
    return opml_export(outlines)
