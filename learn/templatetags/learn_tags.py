"""Labels for raw values: in API cards (kind, stage, difficulty), as the models name them, and
focus weights, as the focus form names them; and a queue item's reasons, parted from its
health warnings."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from django import template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString

from catalog.models import Difficulty, Kind, Stage
from learn import forms, guides, selectors
from recommender import folding
from recommender.queue import HEALTH_KINDS
from recommender.runtime import runtime

register = template.Library()

_KINDS = dict(Kind.choices)
_STAGES = dict(Stage.choices)
_DIFFICULTIES = dict(Difficulty.choices)


@register.filter
def undo_token(extra_tags: str) -> str:
    """The click token an Undo message carries in its extra tags (learn.views._undo_offer)."""
    for tag in extra_tags.split():
        if tag.startswith("undo-token-"):
            return tag.removeprefix("undo-token-")  # learn.views.UNDO_TOKEN_TAG
    return ""


@register.filter
def rate_offer(extra_tags: str) -> str:
    """The resource a "Marked … done" message offers to rate (learn.views.RATE_OFFER_TAG),
    as its id; "" when it offers none."""
    for tag in extra_tags.split():
        if tag.startswith("rate-offer-") and tag.removeprefix("rate-offer-").isdigit():
            return tag.removeprefix("rate-offer-")
    return ""


# Pages not worth coming back to after signing in or up: the auth pages themselves (which pass
# on the `next` they were given instead) and home, where signing in lands anyway.
_NO_RETURN = {
    "home",
    "signout",
    "password-change",
    "password-changed",
    "password-reset",
    "password-reset-sent",
    "password-reset-confirm",
    "password-reset-done",
}


@register.simple_tag(takes_context=True)
def return_here(context: template.Context) -> str:
    """ "?next=…" for a Sign in / Sign up link: a newcomer who followed a shared link to a
    resource comes back to it after signing up, not to Up next. On the sign-in and sign-up
    pages, the `next` they were given goes on to the other one. Only the site's own safe
    paths are passed (the views check them again)."""
    request = context.get("request")
    if request is None or request.method != "GET":
        return ""
    match = request.resolver_match
    name = match.url_name if match else None
    if name in ("signin", "signup"):
        target = request.GET.get("next", "")
    elif name in _NO_RETURN or match is None or match.namespace != "learn":
        return ""
    else:
        target = request.get_full_path()
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return ""
    return "?" + urlencode({"next": target})


@register.filter
def marked(text: str, search: str) -> SafeString:
    """Plain text as HTML, escaped, with every case-insensitive occurrence of `search` in
    <mark>: where a note matched the learner's search. Line breaks and indentation stay as
    they are: .note-text shows them (white-space: pre-wrap), as a pasted manifest needs."""
    if not search:
        return conditional_escape(text)
    # Found as the notes search finds it: case and accents ignored (recommender.folding).
    parts: list[SafeString | str] = []
    end = 0
    for start, stop in folding.found_spans(text, search):
        parts += [text[end:start], format_html("<mark>{}</mark>", text[start:stop])]
        end = stop
    parts.append(text[end:])
    return format_html_join("", "{}", ((part,) for part in parts))


# An address in a note: http or https only (a "javascript:" one stays text), up to a space, a
# quote of any kind, a backtick or an angle or square bracket; see _address_end for its end.
_NOTE_LINK = re.compile(
    r"https?://[^\s<>\"'`\[\]{}\u201c\u201d\u2018\u2019\u00ab\u00bb]+", re.IGNORECASE
)
# What ends the sentence around an address, not the address ("see https://k8s.io/docs/.").
_AFTER_ADDRESS = set(".,;:!?\u2026\u3002\u3001\uff0c\uff1f\uff01")


def _address_end(address: str) -> str:
    """The address without the punctuation after it: a closing bracket only when the address
    opened none ("(see https://a.example/x)"), and kept when it did (Wikipedia's
    "…/Kubernetes_(software)", cut short by an earlier rule, led to another page)."""
    while address:
        last = address[-1]
        if last in _AFTER_ADDRESS or (last == ")" and address.count(")") > address.count("(")):
            address = address[:-1]
            continue
        return address
    return address


@register.filter
def note_html(text: str, search: str = "") -> SafeString:
    """A note as `marked` shows it, its web addresses links: a walk-through's learner pasted
    the docs page they meant to go back to and could not click it."""
    parts: list[SafeString] = []
    end = 0
    for match in _NOTE_LINK.finditer(text):
        address = _address_end(match.group())
        if "://" not in address or address.endswith("://"):
            continue
        stop = match.start() + len(address)
        parts += [
            marked(text[end : match.start()], search),
            format_html(
                '<a href="{}" rel="noopener noreferrer nofollow">{}</a>',
                address,
                marked(address, search),
            ),
        ]
        end = stop
    parts.append(marked(text[end:], search))
    return format_html_join("", "{}", ((part,) for part in parts))


# A note longer than this many characters or lines is shown folded on the notes list, with a
# button to unfold it: a 9,000-character note filled many phone screens (a walk-through).
NOTE_FOLD_CHARS = 800
NOTE_FOLD_LINES = 14


@register.filter
def note_is_long(text: str) -> bool:
    return len(text) > NOTE_FOLD_CHARS or text.count("\n") >= NOTE_FOLD_LINES


@register.filter
def kind_label(value: str) -> str:
    return _KINDS.get(value, value)


@register.filter
def stage_label(value: str) -> str:
    return _STAGES.get(value, value)


@register.filter
def difficulty_label(value: int) -> str:
    return _DIFFICULTIES.get(value, str(value))


@register.filter
def focus_label(weight: float | None) -> str:
    return forms.focus_label(weight)


@register.filter
def path_position(card: dict, path_slug: str) -> int | None:
    """The card's step number on a path, if it is on it."""
    for placement in card.get("path_steps", ()):
        if placement["path"] == path_slug:
            return placement["position"]
    return None


#: Where a learner can look for a resource whose address the curators have not confirmed.
WEB_SEARCH = "https://duckduckgo.com/"


@register.filter
def site_name(url: str) -> str:
    """The site a link goes to, as a reader knows it: "kubernetes.io", not the whole address
    (a punycode host stays punycode: a look-alike name is not dressed up as the real one)."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


# "(1)", "(Kubernetes documentation)": a closing parenthesis of a title.
CLOSING_PARENTHESIS = re.compile(r"\s*\([^()]*\)\s*$")


@register.filter
def guide_url(card: dict) -> str | None:
    """Where kubelearn serves this resource's text itself (learn.guides), if it does."""
    return guides.guide_url(card.get("slug"))


@register.filter
def web_search_url(card: dict) -> str:
    """A web search for the card's title and authors. Not quoted, and without a closing
    parenthesis: the catalog's titles are often its own ("… Best-Practices (1)", "Julia
    Evans's drawing of …", "… (Maya Kaczorowski, Google Cloud Next '18)"), and an exact
    phrase of them finds nothing (a walk-through)."""
    authors = " ".join(author["name"] for author in card.get("authors") or ())
    title = CLOSING_PARENTHESIS.sub("", card["title"]) or card["title"]
    query = f"{title} {authors}".strip()
    return f"{WEB_SEARCH}?{urlencode({'q': query})}"


@register.filter
def long_day(moment: datetime | None) -> str:
    """ "Tuesday 8 December", with the year when it is not this year (learn.selectors)."""
    return selectors.spoken_day(moment, "long") if moment else ""


@register.filter
def past_day(moment: datetime | None) -> str:
    """ "today", "yesterday", "on Tuesday", "on 8 Dec" (learn.selectors.spoken_day)."""
    return selectors.spoken_day(moment, "past") if moment else ""


@register.filter
def duration(minutes: int | None) -> str:
    """A length in minutes as the pages say it ('45 min', '1 h 15 min')."""
    return "" if minutes is None else selectors.spoken_duration(minutes)


# Reasons the queue adds from the catalog's health (recommender.queue.HEALTH_KINDS): a card
# shows them as a warning of their own, not as a reason to read it ("Why this is next").
@register.filter
def spoken_timedelta(value: timedelta | None) -> str:
    """A waiting time as the pages say a length ('1 h', '30 min'); '' for none."""
    if not value:
        return ""
    return selectors.spoken_duration(max(1, round(value.total_seconds() / 60)))


@register.filter
def why_reasons(reasons: list[dict]) -> list[dict]:
    return [reason for reason in reasons if reason["kind"] not in HEALTH_KINDS]


@register.filter
def health_reasons(reasons: list[dict]) -> list[dict]:
    return [reason for reason in reasons if reason["kind"] in HEALTH_KINDS]


@register.filter
def superseded(card: dict) -> bool:
    """Whether the card's resource *is* something removed whose successor the catalog has
    (Katacoda: its card led with "Read it on katacoda.com"). No query."""
    return runtime.superseded_successor(card) is not None


@register.filter
def successor_of(card: dict, sentence: str) -> int | None:
    """The resource about today's way that the card's staleness flag with this sentence names
    (a queue card's warning is that sentence), unless it is the card's own."""
    for flag in card.get("staleness", ()):
        if flag["sentence"] == sentence and flag.get("successor") != card.get("id"):
            return flag.get("successor")
    return None


@register.filter
def lower_first(sentence: str) -> str:
    """A sentence to run on inside another, in brackets: its first letter lowered (unless it
    starts an acronym: "RBAC …" stays) and its closing full stop dropped."""
    text = sentence.strip().removesuffix(".")
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text
