"""The learner's reading queue as a private Atom feed, for the feed reader they already use.

The address carries a long random key (learn.models.QueueFeed); it is the only credential, so
the feed shows exactly one learner's queue and nothing else, and it is never cached publicly.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from learn import selectors
from learn.templatetags.learn_tags import site_name
from recommender import queue
from recommender import selectors as recommender_selectors
from recommender.runtime import runtime

# Up next's length: the feed is the queue the learner sees there. At 20, its last entries
# were the variety a longer queue reaches for (red-team tools for a hardening focus; a
# walk-through).
FEED_LENGTH = 10


class QueueAtomFeed(Feed):
    feed_type = Atom1Feed

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().__call__(request, *args, **kwargs)
        # One learner's data at a secret address: no shared cache may keep it, and no
        # search engine should index it.
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex"
        return response

    def get_object(self, request: HttpRequest, key: str) -> dict[str, Any]:
        feed = selectors.queue_feed_by_key(key=key)
        if feed is None:
            raise Http404("No such feed.")
        # The queue's next ten, whatever the learner's session budget: a reader is read when
        # there is time, and a walk-through's 30-minute budget left three entries in it.
        result = queue.queue_build(user=feed.user, limit=FEED_LENGTH, unlimited=True)
        cards = runtime.cards([item.resource for item in result.items])
        # Readers list entries newest first, whatever the feed's order: each entry is dated
        # by its place in the queue, a second apart from when the queue last changed, so the
        # reader shows the queue's order (dated by the resources, a 2017 article fell from 7th
        # to 16th in newsboat) and an unchanged queue keeps its dates between fetches.
        changed = recommender_selectors.queue_changed_at(user=feed.user) or timezone.now()
        return {
            "feed": feed,
            "entries": [
                {
                    "card": card,
                    "reasons": item.reasons,
                    "resource": item.resource,
                    "at": changed - timedelta(seconds=place),
                }
                for place, (card, item) in enumerate(zip(cards, result.items, strict=True))
            ],
        }

    def title(self, obj: dict[str, Any]) -> str:
        return f"kubelearn: up next for {obj['feed'].user.get_username()}"

    def subtitle(self, obj: dict[str, Any]) -> str:
        # Said, as on the Account page: a walk-through with a 20-minute budget found one item
        # on Up next and ten here, and nothing saying why.
        return (
            f"Your kubelearn reading queue: its next {FEED_LENGTH} items in order, whatever your "
            "session's time budget, with the reason for each."
        )

    def link(self, obj: dict[str, Any]) -> str:
        return reverse("learn:home")

    def feed_url(self, obj: dict[str, Any]) -> str:
        return reverse("learn:queue-feed", args=[obj["feed"].key])

    def feed_guid(self, obj: dict[str, Any]) -> str:
        # Stable per learner, not per key: renewing the address keeps the reader's history.
        return f"tag:kubelearn,2026:queue:{obj['feed'].user_id}"

    def author_name(self, obj: dict[str, Any]) -> str:
        return "kubelearn"

    def items(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        return obj["entries"]

    def item_title(self, item: dict[str, Any]) -> str:
        return item["card"]["title"]

    def item_description(self, item: dict[str, Any]) -> str:
        card = item["card"]
        # The catalog's health notes (a failing link, outdated advice) are not reasons to read
        # it: a walk-through read "Mentions PodSecurityPolicy…" listed under "Why it is next".
        reasons = "".join(
            f"<li>{escape(reason['text'])}</li>"
            for reason in item["reasons"]
            if reason["kind"] not in queue.HEALTH_KINDS
        )
        notes = "".join(
            f"<p><strong>Note:</strong> {escape(reason['text'])}</p>"
            for reason in item["reasons"]
            if reason["kind"] in queue.HEALTH_KINDS
        )
        minutes = card["estimated_minutes"]
        about = f"<p>{escape(card['summary'])}</p>" if card["summary"] else ""
        # The entry links to its page here (notes, Done); the original is one click away too.
        url = item["resource"].url
        original = (
            f'<p><a href="{escape(url)}">Read it on {escape(site_name(url) or url)}</a></p>'
            if url
            else ""
        )
        # As the pages say it ("15 h", "1 h 15 min"), not "About 900 minutes".
        length = f"<p>About {selectors.spoken_duration(minutes)}.</p>" if minutes else ""
        # The entry's own date is its place in the queue: the resource's date is said here.
        published = item["resource"].published_at
        when = f"<p>Published {published:%-d %B %Y}.</p>" if published else ""
        why = f"<p>Why it is next:</p><ul>{reasons}</ul>" if reasons else ""
        return f"{about}{original}{length}{when}{notes}{why}"

    def item_link(self, item: dict[str, Any]) -> str:
        return reverse("learn:resource", args=[item["card"]["id"]])

    def item_guid(self, item: dict[str, Any]) -> str:
        return f"tag:kubelearn,2026:resource:{item['card']['id']}"

    def item_guid_is_permalink(self, item: dict[str, Any]) -> bool:
        return False

    def item_updateddate(self, item: dict[str, Any]) -> Any:
        return item["at"]

    def item_pubdate(self, item: dict[str, Any]) -> Any:
        return item["at"]

    def item_categories(self, item: dict[str, Any]) -> list[str]:
        return [item["card"]["stage"], *(area["slug"] for area in item["card"]["security_areas"])]


queue_feed = QueueAtomFeed()
