"""The learner's pages. Thin: parse input, call the selectors and services the API calls, render.

Every action is a plain form (POST, then redirect), so nothing here needs JavaScript.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import IntegrityError
from django.db.models import F
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from catalog import selectors as catalog_selectors
from catalog.filters import ResourceFilter
from catalog.models import Difficulty, Kind, Resource, SecurityArea, Stage
from catalog.views import ResourceViewSet
from kubelearn.accounts import account_register
from learn import emails, export, guides, selectors, services, svg
from learn.feeds import FEED_LENGTH
from learn.forms import (
    AccountDeleteForm,
    AccountEmailForm,
    FeedActionForm,
    FocusForm,
    HistoryForm,
    LevelForm,
    NoteForm,
    PendingEmailActionForm,
    ProgressForgetForm,
    ProgressForm,
    SignUpForm,
    focus_label,
    focus_level,
)
from recommender import queue
from recommender import selectors as recommender_selectors
from recommender import services as recommender_services
from recommender.engine.reasons import and_list
from recommender.models import Progress, ProgressState
from recommender.runtime import runtime
from recommender.serializers import QueueParamsSerializer
from recommender.services import ProgressSnapshot

PAGE_SIZE = 20
# Browse's filters that fold away under "Filters" on a phone (search stays in view).
FOLDED_FILTERS = ("stage", "kind", "area", "tag", "author")
QUEUE_LENGTH = 10
TIME_PACKS = (15, 30, 60)
# Up next's tip to choose a focus is shown to a learner without one until they complete this
# many items (the Focus page stays in the menu).
FOCUS_TIP_UNTIL_COMPLETED = 10
DONE_MESSAGES = {
    # Not "it stays on your path": most of the catalog is on no path (walk-through).
    ProgressState.IN_PROGRESS: "Started “{title}”. It waits under Reading now.",
    ProgressState.COMPLETED: "Marked “{title}” done.",
    ProgressState.SKIPPED: "Skipped “{title}”.",
    # Short: a phone shows four lines of it beside Undo, a long title included.
    ProgressState.PLANNED: "Saved “{title}” for later. It waits in Saved.",
}
# Done with a rating says the rating was kept too (a walk-through could not tell).
RATED_DONE_MESSAGE = "Marked “{title}” done, rated {rating} of 5."
# "Not now" on a queue card ({back}: the day it comes back to the queue). The (shortened)
# title, the day, where it is meanwhile: all inside the four lines a phone's sticky message
# shows (a longer one cut off where the item went).
LATER_MESSAGE = "“{title}” returns to your queue on {back}. It waits in Saved."
# Messages name an item by at most this much of its title: a phone shows four lines of a
# sticky message beside its Undo, and what was done ("done", the day it comes back) must be
# among them. The item's card or page carries the whole title.
MESSAGE_TITLE_CHARS = 40


# ... and "Not now"'s and "Stopped reading"'s, the longest messages beside an Undo: at 40
# characters a walk-through's "So I Heard You Want to Learn Kubernetes" lost "History." at
# 375 px, and "… Security and…”: it is back in your queue" its end.
LATER_TITLE_CHARS = 28


def message_title(title: str, limit: int = MESSAGE_TITLE_CHARS) -> str:
    """A title as a message names it: whole, or cut at a word before ``limit`` characters
    with an ellipsis."""
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    words = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return words.rstrip(" ,;:.-\u2013\u2014(") + "…"


# The session key holding what the learner's last progress click replaced (progress_undo).
UNDO_SESSION_KEY = "learn_undo"
# The extra tag of an Undo message that carries its click's token (see _undo_offer).
UNDO_TOKEN_TAG = "undo-token-"  # noqa: S105 - a tag name, not a secret
# The extra tag of a "Marked … done" message that offers to rate the item (base.html): a card's
# Done asks for nothing more, and the rating comes once the learner has finished, as in a
# reading app (a walk-through read the Rating box opening every unread card as a question
# before reading).
RATE_OFFER_TAG = "rate-offer-"
UNDO_STALE_MESSAGE = (
    "Nothing was undone: that Undo was for an earlier action, and something else has been "
    "done since (in another tab?). Undo what you see now beside the latest message."
)
# A completion is kept when a later click asks for less (see progress_set).
KEPT_DONE_MESSAGE = "You have already finished “{title}”, so it stays marked done."
SESSION_ENDED_MESSAGE = (
    "You were signed out (here or on another device, or by a new password), so that click "
    "did nothing. Sign in and you are back where you were."
)
# Kept in this browser's session after its account is deleted (account_delete); read only
# while it is signed out (signing in to another account and out again ends that session).
ACCOUNT_DELETED_KEY = "account_deleted"
ACCOUNT_DELETED_CLICK_MESSAGE = (
    "That click did nothing: the account this page was made for is deleted, with everything "
    "in it. Sign up to start again."
)
RATING_CLEARED_SINCE_MESSAGE = (
    "Your progress on “{title}” was cleared after this page was loaded (in another tab or on "
    "another device?), so that rating was not saved. Mark it done to rate it again."
)
# A Clear with nothing left to clear: done already, in another tab or on another device.
CLEARED_SINCE_MESSAGE = (
    "Nothing to do: “{title}” was already cleared after this page was loaded (in another tab "
    "or on another device?)."
)
# A Clear (Stop reading, Remove from saved, Bring back now) from a page made before the item
# changed elsewhere: nothing is cleared, and the message says what it is now.
_CHANGED_SINCE = {
    ProgressState.COMPLETED: KEPT_DONE_MESSAGE + " (It was marked done elsewhere since.)",
    ProgressState.IN_PROGRESS: "You started reading “{title}” elsewhere since: nothing was "
    "cleared.",
    ProgressState.PLANNED: "“{title}” was saved elsewhere since: nothing was cleared.",
    ProgressState.SKIPPED: "You skipped “{title}” elsewhere since: nothing was cleared.",
}
# Skip, Save for later or Not now from a page made before the item changed elsewhere (the
# phone began reading it, skipped it or put it off; the laptop's old Up next still offered
# Skip): what the phone did, and any rating, stays. A walk-through's Not now on the laptop
# turned the phone's Skip into "returns to your queue on Mon", and a Skip there dropped the
# phone's "Not now, in a month", each without a word.
_ELSEWHERE = (
    "after this page was loaded (in another tab or on another device?), so that click did nothing"
)
READING_SINCE_MESSAGE = "You started reading “{title}” " + _ELSEWHERE + ": it stays in Reading now."
_CLICKED_SINCE = {
    ProgressState.IN_PROGRESS: READING_SINCE_MESSAGE,
    ProgressState.COMPLETED: "You marked “{title}” done " + _ELSEWHERE + ": it stays marked done.",
    ProgressState.SKIPPED: "You skipped “{title}” " + _ELSEWHERE + ": it stays skipped.",
    ProgressState.PLANNED: "You saved “{title}” for later " + _ELSEWHERE + ": it stays in Saved.",
}
PUT_OFF_SINCE_MESSAGE = "You put “{title}” off until {back} " + _ELSEWHERE + "."
# "Save rating" on an item already done.
RATING_MESSAGE = "Rating of “{title}” saved: {rating} of 5."
# A low rating says what it does: a walk-through's expert rated an item 1 of 5 and saw no sign
# that it changed anything (the path's steps keep their order; the rest leans away from it).
LOW_RATING_EFFECT = " What resembles it now ranks lower in your queue, the path's steps aside."
LOW_RATING_MAX = 2
RATING_REMOVED_MESSAGE = "Rating of “{title}” removed."
# "Save rating" with none on an item that had none (a second Enter after Done, where focus
# comes back to it on a resource's page): nothing was removed.
NOT_RATED_MESSAGE = "“{title}” stays marked done, with no rating."
# A rating given to an item marked known ("I know these"): a rating says the learner read it.
RATING_OF_KNOWN_MESSAGE = (
    "Rating of “{title}” saved. It now counts as read here, no longer as already known."
)


def _queue_items(
    user: Any, *, limit: int, minutes: int | None, unlimited: bool = False
) -> tuple[queue.Queue, list[dict]]:
    """The queue as the API builds it, with the API's cards for its resources."""
    result = queue.queue_build(user=user, limit=limit, minutes=minutes, unlimited=unlimited)
    cards = runtime.cards([item.resource for item in result.items])
    # A queued item can be saved for later: its card says so and offers "Remove from saved".
    states = selectors.learner_states(user=user, resource_ids=[card["id"] for card in cards])
    # A step with another way to it says so (a Linux learner had to find out that the macOS
    # step before Minikube could be skipped).
    alternatives = selectors.step_alternatives(
        resource_ids=[card["id"] for card in cards], user=user
    )
    return result, [
        {
            "card": card,
            "reasons": item.reasons,
            "score": item.score,
            "state": states.get(card["id"]),
            "other_ways": alternatives.get(card["id"]),
        }
        for card, item in zip(cards, result.items, strict=True)
    ]


@require_safe
def web_manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: on a phone, "Add to home screen" (or "Install") gives kubelearn
    its own icon and window, opening on Up next, with shortcuts to the pages a learner comes
    back to. Built per request because production's static names are hashed. `minimal-ui`
    keeps a back button where the browser offers one (a standalone window has none, and the
    pages lean on Back after a search or a resource). The PNG icons are favicon.svg rendered
    by Chromium at their sizes; the maskable one has the glyph inside the central safe zone."""
    icon = "learn/{}".format
    manifest = {
        "id": "/",
        "name": "kubelearn",
        "short_name": "kubelearn",
        "description": (
            "A curated path through Kubernetes, from the basics to production to security, "
            "with a reading queue that says why."
        ),
        "lang": "en",
        "start_url": reverse("learn:home"),
        "scope": "/",
        "display": "minimal-ui",
        "background_color": "#f6f7fb",  # kubelearn.css --bg
        "theme_color": "#ffffff",  # the header's --surface
        "icons": [
            {"src": static(icon("favicon.svg")), "sizes": "any", "type": "image/svg+xml"},
            {"src": static(icon("icon-192.png")), "sizes": "192x192", "type": "image/png"},
            {"src": static(icon("icon-512.png")), "sizes": "512x512", "type": "image/png"},
            {
                "src": static(icon("icon-maskable-512.png")),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
        "shortcuts": [
            {"name": "Up next", "url": reverse("learn:home")},
            {"name": "Browse the catalog", "short_name": "Browse", "url": reverse("learn:browse")},
            {"name": "History", "url": reverse("learn:history")},
        ],
    }
    response = JsonResponse(manifest, content_type="application/manifest+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """Up next for a signed-in learner; a short welcome (and the path's start) for visitors."""
    if not request.user.is_authenticated:
        return render(
            request, "learn/welcome.html", {"path": selectors.path_view(user=request.user)}
        )
    # "no limit" beside a saved budget: the whole queue this once (?minutes=any).
    unlimited = request.GET.get("minutes") == "any"
    query = request.GET.copy()
    if unlimited:
        del query["minutes"]
    for name in ("minutes", "limit"):
        # An empty value (a form sent with the box empty, a hand-edited address) means none.
        if name in query and not str(query.get(name, "")).strip():
            del query[name]
    params = QueueParamsSerializer(data=query)
    errors = None
    if not params.is_valid():
        # Said above the queue at the saved budget, not above an empty page (a walk-through's
        # ?minutes=abc left a "Next in your queue" heading and nothing under it).
        errors = params.errors
        params = QueueParamsSerializer(data={})
        params.is_valid(raise_exception=True)
    minutes = params.validated_data.get("minutes")
    result, items = _queue_items(
        request.user,
        limit=params.validated_data.get("limit", QUEUE_LENGTH),
        minutes=minutes,
        unlimited=unlimited,
    )
    profile = recommender_selectors.learner_profile(user=request.user)
    reading = selectors.cards_with_states(
        runtime.cards(selectors.reading_now(user=_learner(request))), user=request.user
    )
    # The learner's notes on both lists, in one query.
    noted = selectors.with_notes([*reading, *items], user=request.user)
    reading, items = noted[: len(reading)], noted[len(reading) :]
    # A main focus nothing on the page serves (it comes later on the path, or the budget left
    # it out): the catalog's resources on it are one click away. A walk-through's beginner,
    # focused on secrets at 15 minutes a day, read only that it comes in at step 26.
    focus_rows = list(profile.focus.all()) if profile else []
    heaviest = max((row.weight for row in focus_rows), default=0.0)
    on_page = {
        area["slug"] for item in [*reading, *items] for area in item["card"]["security_areas"]
    }
    main_focus = [row.area for row in focus_rows if row.weight == heaviest]
    focus_elsewhere = [area for area in main_focus if area.slug not in on_page]
    # Nothing left to recommend: what the learner can still do here, in place of a sentence
    # and a tip to choose a focus (a walk-through's learner finished the whole path to that).
    finished = result.shortfall == "finished" and not items and not errors
    saved = selectors.progress_counts(user=_learner(request))
    return render(
        request,
        "learn/up_next.html",
        {
            "reading": reading,
            "reading_shown": selectors.READING_NOW_SHOWN,
            "saved": saved,
            # Back from "Not now" but not among the cards: a walk-through's learner read "2
            # items … are back in your queue" above a 30-minute session that showed one.
            "returned_later": saved.returned
            - sum(1 for item in items if item["state"] and item["state"].returned),
            "welcome_back": selectors.welcome_back(user=_learner(request)),
            "items": items,
            "total_minutes": result.total_minutes,
            # The budget in force: the chip asked for, else the learner's saved one.
            "minutes": minutes or result.minutes_budget,
            "saved_budget": minutes is None and result.minutes_budget is not None,
            "unlimited": unlimited,
            "has_saved_budget": bool(profile and profile.minutes_budget),
            # Why the queue is short (nothing else open, the budget is full...), as the API says.
            "detail": result.detail if result.shortfall else "",
            # Path steps that wait for a longer session, or the warming-up note.
            "note": result.note,
            # The same, as a list (a beginner's ran to 70 words in one paragraph): where the
            # path starts and the focus comes in, then the steps that wait.
            "note_parts": [
                part for part in (result.path_note, result.level_note, result.deferred_note) if part
            ],
            "level_offer": result.level_offer,
            "read_in_parts": selectors.step_to_read_in_parts(
                deferred=result.deferred, budget=result.minutes_budget
            ),
            # The learner's own budget is a chip among the others, in force unless another
            # is asked for: a saved 20 minutes showed three chips and none of them chosen.
            "packs": sorted({*TIME_PACKS, profile.minutes_budget})
            if profile and profile.minutes_budget
            else TIME_PACKS,
            # Until a few items are read: a walk-through's learner, who chose no focus, saw the
            # tip on every visit through 49 completions.
            # Nor beside the question whether the queue misses, which names the focus too.
            "focus_tip": not focus_rows
            and saved.completed < FOCUS_TIP_UNTIL_COMPLETED
            and not saved.mostly_disliked,
            "focus_elsewhere": sorted(focus_elsewhere, key=lambda area: area.name),
            # What the low-ratings note asks the learner to set: "set your level or a security
            # focus" was said to one who had set both (a walk-through).
            "level_set": bool(profile and profile.level),
            "focus_set": bool(focus_rows),
            # Some main areas are served, not all: "Nothing here is on your main focus" beside
            # "Covers your focus: Container hardening" contradicted the cards (a walk-through).
            "focus_partly_served": len(focus_elsewhere) < len(main_focus),
            "rating_choices": range(1, 6),
            "errors": errors,
            "finished": selectors.finished_counts(user=_learner(request)) if finished else None,
        },
        status=400 if errors else 200,
    )


def saved(request: HttpRequest) -> HttpResponse:
    """/saved/: History's saved list, which the menu's Saved opens."""
    return redirect(f"{reverse('learn:history')}?show=saved")


def _page(request: HttpRequest, items: Any) -> Page:
    """The page of `items` that ?page= asks for, PAGE_SIZE to a page.

    An odd or stale number (the last item of the last page was just cleared) shows the nearest
    page that exists, not a 404. `get_page` counts 0 and negative numbers as past the end and
    shows the last page: here, below 1 means the first.
    """
    number = request.GET.get("page")
    try:
        if number is not None and int(number) < 1:
            number = "1"
    except ValueError:
        pass  # not a number: get_page shows the first page
    return Paginator(items, PAGE_SIZE).get_page(number)


def _visible_resource(request: HttpRequest, resource_id: int) -> Resource:
    """The resource if this visitor may see it (approved; curators see every status), else 404."""
    return get_object_or_404(catalog_selectors.resource_list(user=request.user), pk=resource_id)


def _learner(request: HttpRequest) -> User:
    """The signed-in learner (for views behind login_required)."""
    return cast(User, request.user)


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("learn:home")


def _signed_in_to_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """`login_required` for the progress forms, which only accept POST.

    A learner whose session ended (signed out in another tab) is sent to sign in and then
    back to the page the form was on: Django's own decorator would send them on to the
    form's address, which answers a GET with 405, and the click would be lost anyway.
    With htmx the whole page goes to the sign-in form, not just the part being swapped.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.session.get(ACCOUNT_DELETED_KEY):
            # This browser's account is gone: "sign in and you are back where you were" was
            # said to a walk-through's tab left open on the deleted account.
            messages.info(request, ACCOUNT_DELETED_CLICK_MESSAGE)
            signin = redirect("learn:home")
        else:
            # Said on the sign-in page: a phone whose session a new password on the laptop
            # had ended was sent there with no word, and the click was lost (a walk-through).
            messages.info(request, SESSION_ENDED_MESSAGE)
            signin = redirect_to_login(_safe_next(request, request.POST.get("next")))
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = signin["Location"]
            return response
        return signin

    return wrapper


@require_POST
@_signed_in_to_post
def progress(request: HttpRequest, resource_id: int) -> HttpResponse:
    """Mark a resource started, done (with an optional rating) or skipped; then go back."""
    resource = _visible_resource(request, resource_id)
    form = ProgressForm(request.POST)
    if not form.is_valid():
        return render(request, "learn/bad_request.html", {"form": form}, status=400)
    state = form.cleaned_data["state"]
    # What this click replaces, for its Undo (no progress yet: a snapshot of none).
    was = recommender_services.progress_snapshots(
        recommender_selectors.progress_list(user=_learner(request)).filter(resource_id=resource.pk)
    ).get(resource.pk, ProgressSnapshot(resource.pk, None))
    # Done has no rating box: a second Done (a resubmitted page) keeps the rating given since.
    rated = "rating" in request.POST
    shown = form.cleaned_data["shown"]
    try:
        progress, _ = recommender_services.progress_set(
            user=_learner(request),
            resource=resource,
            state=state,
            rating=form.cleaned_data["rating"] if rated else ...,
            later=form.cleaned_data["later"],
            later_days=form.cleaned_data["later_days"],
            only_if=_only_if_unchanged(shown, state),
        )
    except recommender_services.ProgressChanged as changed:
        if changed.current is None:  # a rating's, of an item cleared since
            message = RATING_CLEARED_SINCE_MESSAGE.format(title=message_title(resource.title))
        else:
            message = _clicked_since_message(changed.current, resource.title)
        messages.info(request, message)
        return HttpResponseRedirect(_safe_next(request, form.cleaned_data.get("next")))
    done_again = was.state == ProgressState.COMPLETED == state and not rated and not was.known
    if progress.state != state or done_again:
        messages.success(request, KEPT_DONE_MESSAGE.format(title=message_title(resource.title)))
    else:
        title = message_title(resource.title)
        if was.state == ProgressState.COMPLETED == state:
            if progress.rating:
                message = RATING_MESSAGE.replace("{rating}", str(progress.rating))
                if progress.rating <= LOW_RATING_MAX:
                    message += LOW_RATING_EFFECT
            else:
                message = RATING_REMOVED_MESSAGE if was.rating else NOT_RATED_MESSAGE
            if was.known and not progress.known:
                message = RATING_OF_KNOWN_MESSAGE
        elif progress.later_until is not None:
            # Title first (shortened), then the short date: a phone shows four lines of the
            # message beside its Undo, and they must say which item it was (its card has left
            # the queue) and when it comes back.
            message = LATER_MESSAGE.replace("{back}", selectors.spoken_day(progress.later_until))
            title = message_title(resource.title, LATER_TITLE_CHARS)
        elif state == ProgressState.COMPLETED and progress.rating:
            message = RATED_DONE_MESSAGE.replace("{rating}", str(progress.rating))
        else:
            message = DONE_MESSAGES[ProgressState(state)]
        behind = ProgressState.COMPLETED, ProgressState.SKIPPED
        finished = (
            _stage_finished(request, resource)
            if state in behind and was.state not in behind
            else ""
        )
        if finished:
            # The title shorter, as "Not now"'s: a phone shows four lines of the message.
            message += finished
            title = message_title(resource.title, LATER_TITLE_CHARS)
        undone = f"Undone: “{message_title(resource.title)}” is back as it was."
        if was.state == ProgressState.COMPLETED == state and not was.known:
            # "Back as it was" left a learner who had rated from the Done message unsure the
            # Done was kept (a walk-through).
            undone = (
                f"Undone: “{message_title(resource.title)}” has its rating back as it was, "
                "and stays marked done."
            )
        tags = _undo_offer(
            request,
            [was],
            undone=undone,
            anchor="",  # a step's place is looked up only if Undo is used (progress_undo)
        )
        if state == ProgressState.COMPLETED and not progress.rating and not progress.known:
            tags += f" {RATE_OFFER_TAG}{resource.pk}"
        messages.success(request, message.format(title=title), extra_tags=tags)
    next_url = _safe_next(request, form.cleaned_data.get("next"))
    if "#" not in next_url and next_url.split("?")[0] == reverse("learn:path"):
        # Back at the step (the message's rating form, which cannot know it, sends /path/):
        # without script the page came back at its top, far from the step rated.
        anchor = _path_anchor(resource.pk)
        next_url = f"{next_url}#{anchor}" if anchor else next_url
    return HttpResponseRedirect(next_url)


def _only_if_unchanged(shown: str, asked: str) -> Callable[[Progress | None], bool] | None:
    """progress_set's `only_if` for a click from a page that showed `shown` (none: no check).
    A new rating (a page that showed the item done, asking for done) needs it done still: a
    walk-through's old tab rated an item cleared since and marked it done again, unsaid."""
    if not shown:
        return None
    if shown == asked == ProgressState.COMPLETED:
        return lambda current: current is not None and current.state == ProgressState.COMPLETED
    return _unchanged_since(shown, asked)


def _unchanged_since(shown: str, asked: str) -> Callable[[Progress | None], bool]:
    """progress_set's `only_if` for a click from a page that showed `shown`, asking for
    `asked`: refused when the item has another state now (changed elsewhere since), unless it
    is the one asked for. With no progress now (cleared elsewhere) nothing is lost: allowed."""

    def unchanged_since(current: Progress | None) -> bool:
        return current is None or current.state in (shown, asked)

    return unchanged_since


def _clicked_since_message(current: Progress, title: str) -> str:
    """What the item became elsewhere, which a click from an older page left as it is."""
    shortened = message_title(title)
    if current.later_until is not None and current.later_until > timezone.now():
        day = selectors.spoken_day(current.later_until)
        return PUT_OFF_SINCE_MESSAGE.format(title=shortened, back=day)
    return _CLICKED_SINCE[ProgressState(current.state)].format(title=shortened)


def _undo_offer(
    request: HttpRequest, snapshots: list[ProgressSnapshot], *, undone: str, anchor: str
) -> str:
    """Let the next message's Undo (base.html) put these back: kept in the session, so only
    the learner's last click can be taken back, and once. ``anchor`` is where on the Path
    page to come back to ("": the one resource's step, if it is one).

    Returns the message's extra tags: "undo" and the click's token, which its Undo form
    sends back, so that an Undo beside an older message (in another tab, after a later
    click here) cannot undo the later click instead."""
    token = secrets.token_urlsafe(8)
    request.session[UNDO_SESSION_KEY] = {
        "snapshots": [snap.to_session() for snap in snapshots],
        "undone": undone,
        "anchor": anchor,
        "token": token,
    }
    return f"undo {UNDO_TOKEN_TAG}{token}"


def _stage_finished(request: HttpRequest, resource: Resource) -> str:
    """What the message of a click on a path step adds when it put the last step of its
    stage behind the learner (' “Getting started” is behind you.') or the path's last one
    (' That is the whole path: well done.'); else "". A walk-through's learner finished a
    stage, then the whole path, and nothing said so but the Path page's percentages."""
    if not _path_anchor(resource.pk):  # one query: most clicks are on no step
        return ""
    view = selectors.path_view(user=request.user)
    stage = next(
        (
            stage
            for stage in (view.stages if view else [])
            if any(item.step.resource_id == resource.pk for item in stage.steps)
        ),
        None,
    )
    if view is None or stage is None or not stage.all_behind:
        return ""
    if all(other.all_behind for other in view.stages):
        return " That is the whole path: well done."
    return f" “{stage.label}” is behind you."


def _path_anchor(resource_id: int) -> str:
    """The resource's step on the Path page ("step-N"), or "" when it is not a step."""
    path = recommender_selectors.primary_path()
    position = (
        path.steps.filter(resource_id=resource_id).values_list("position", flat=True).first()
        if path
        else None
    )
    return f"step-{position}" if position else ""


@require_POST
@_signed_in_to_post
def progress_undo(request: HttpRequest) -> HttpResponse:
    """Take back the learner's last progress click: what it changed is as it was before."""
    next_url = _safe_next(request, request.POST.get("next"))
    kept = request.session.get(UNDO_SESSION_KEY)
    if isinstance(kept, dict) and request.POST.get("token") != kept.get("token"):
        # An Undo beside an earlier message: the last click (kept) is not the one it means.
        messages.info(request, UNDO_STALE_MESSAGE)
        return HttpResponseRedirect(next_url)
    last = request.session.pop(UNDO_SESSION_KEY, None)
    try:
        snapshots = [ProgressSnapshot.from_session(kept) for kept in last["snapshots"]]
        undone, anchor = str(last["undone"]), str(last["anchor"])
    except (TypeError, KeyError, ValueError):  # none, or one this version does not read
        snapshots = []
    visible = set(
        catalog_selectors.resource_list(user=request.user, relations=False)
        .filter(pk__in=[snap.resource_id for snap in snapshots])
        .values_list("pk", flat=True)
    )
    snapshots = [snap for snap in snapshots if snap.resource_id in visible]
    if not snapshots:
        messages.success(request, "There is nothing to undo.")
        return HttpResponseRedirect(next_url)
    recommender_services.progress_restore(user=_learner(request), snapshots=snapshots)
    # Sticky, as the message with Undo was: the page comes back at the step, stage or card.
    messages.success(request, undone, extra_tags="sticky")
    # Back to the place on the page, which the form's address cannot carry: on the Path page
    # the step or the stage; elsewhere the item's card (its title), if the page shows it.
    if "#" not in next_url:
        if next_url.split("?")[0] == reverse("learn:path"):
            single = len(snapshots) == 1
            anchor = anchor or (_path_anchor(snapshots[0].resource_id) if single else "")
        elif len(snapshots) == 1:
            anchor = f"card-{snapshots[0].resource_id}-title"
        if anchor:
            next_url += f"#{anchor}"
    return HttpResponseRedirect(next_url)


@require_POST
@_signed_in_to_post
def progress_forget(request: HttpRequest, resource_id: int) -> HttpResponse:
    """Clear: forget the learner's progress on a resource (it may come back to the queue).
    The message names it and offers Undo, which puts the row back as it was (state, rating,
    completion date)."""
    learner = _learner(request)
    next_url = _safe_next(request, request.POST.get("next"))
    form = ProgressForgetForm(request.POST)
    if not form.is_valid():
        return render(request, "learn/bad_request.html", {"form": form}, status=400)
    shown = form.cleaned_data["shown"] or None
    # One read: what Undo puts back, and what the message says it was.
    kept = recommender_services.progress_snapshots(
        recommender_selectors.progress_list(user=learner).filter(resource_id=resource_id)
    ).get(resource_id)
    was = (
        selectors.LearnerState(kept.state, kept.rating, kept.known, kept.later_until)
        if kept is not None and kept.state is not None
        else None
    )
    whole = (
        catalog_selectors.resource_list(user=request.user, relations=False)
        .filter(pk=resource_id)
        .values_list("title", flat=True)
        .first()
    )
    title = message_title(whole) if whole else "this item"
    try:
        forgotten = recommender_services.progress_forget(
            user=learner,
            resource_id=resource_id,
            only_if=(lambda p: p is not None and p.state == shown) if shown else None,
        )
    except recommender_services.ProgressChanged as changed:
        if changed.current is not None:
            # Changed since this page was made (another tab, another device): kept.
            state = ProgressState(changed.current.state)
            messages.info(request, _CHANGED_SINCE[state].format(title=title))
        else:
            messages.info(request, CLEARED_SINCE_MESSAGE.format(title=title))
        return HttpResponseRedirect(next_url)
    if not forgotten:
        # Said, not a silent reload: a walk-through's second tab seemed to do nothing.
        messages.info(request, CLEARED_SINCE_MESSAGE.format(title=title))
        return HttpResponseRedirect(next_url)
    request.session.pop(UNDO_SESSION_KEY, None)  # an earlier click's Undo would undo this too
    # In the words of the button: a saved item is "removed from saved", one being read is
    # no longer read, the rest cleared (one put off with "Not now" was never saved by
    # choice: its button says Bring back now).
    if was is not None and was.put_off_until:
        # It was out of the queue: say that it is back (a walk-through could not tell), in
        # the words of its button, "Bring back now" ("Cleared … when its turn comes" did not
        # read as now: a walk-through).
        message = f"Brought “{title}” back: it is in your queue again."
    elif was is not None and was.state == ProgressState.PLANNED and not was.returned:
        message = f"Removed “{title}” from saved."
    elif was is not None and was.state == ProgressState.IN_PROGRESS:
        # Short enough for the four lines a phone gives it beside Undo: "… when its turn
        # comes" was cut off mid-word at 375 px (a walk-through).
        short = message_title(whole, LATER_TITLE_CHARS) if whole else title
        message = f"Stopped reading “{short}”: back in your queue."
    else:
        message = f"Cleared your progress on “{title}”."
    tags = ""
    if kept is not None:
        undone = f"Undone: “{title}” is back as it was."
        tags = _undo_offer(request, [kept], undone=undone, anchor="")
    messages.success(request, message, extra_tags=tags)
    return HttpResponseRedirect(next_url)


def path(request: HttpRequest) -> HttpResponse:
    path_view = selectors.path_view(user=request.user)
    if path_view is None:
        raise Http404("No learning path yet.")
    # "You are here": the queue's next step (a focused learner's starts at their focus); and
    # where the path starts: a step before it is optional. Not "before the next step": an
    # outdated step the queue reads after its successor is before that, and was marked
    # "before your path starts" for a walk-through's learner who had started at step 1.
    start, here = (
        queue.path_place(user=_learner(request)) if request.user.is_authenticated else (None, None)
    )
    stages = [
        (
            stage,
            svg.progress_bar(done=stage.finished, total=stage.total, stage=stage.stage),
            stage.all_behind or stage.before(here),
        )
        for stage in path_view.stages
    ]
    following = path_view.step_at(here)
    # A next step longer than the saved budget: Up next passes over it to what fits and offers
    # it in parts; said here too, or the two pages name different next steps unexplained (a
    # walk-through: "step 5" here, step 7 at the head of Up next).
    budget = None
    if following is not None and following.step.resource.estimated_minutes:
        saved = recommender_selectors.saved_budget(user=_learner(request))
        if saved and following.step.resource.estimated_minutes > saved:
            budget = saved
    return render(
        request,
        "learn/path.html",
        {
            "path": path_view,
            "stages": stages,
            "here": here,
            "start": start,
            "next": following,
            "longer_than_budget": budget,
        },
    )


@require_POST
@_signed_in_to_post
def level_set(request: HttpRequest) -> HttpResponse:
    """Set the learner's level from the queue note that asks for it, then back to the queue:
    the note said "set your level to Intermediate" and left the learner to find where."""
    form = LevelForm(request.POST)
    if not form.is_valid():
        return render(request, "learn/bad_request.html", {"form": form}, status=400)
    level = form.cleaned_data["level"]
    recommender_services.profile_update(user=_learner(request), level=level)
    word = Difficulty(level).label
    messages.success(request, f"Your level is now {word}: your queue follows it.")
    return HttpResponseRedirect(_safe_next(request, form.cleaned_data.get("next")))


@require_POST
@_signed_in_to_post
def path_stage_done(request: HttpRequest, stage: str) -> HttpResponse:
    """ "I know these": mark a stage's remaining path steps done, then back to the stage."""
    if stage not in Stage.values:
        raise Http404("No such stage.")
    changed = recommender_services.path_stage_complete(
        user=_learner(request), stage=stage, needless=selectors.covered_steps(user=request.user)
    )
    label = Stage(stage).label
    if changed:
        steps = f"{len(changed)} step{'' if len(changed) == 1 else 's'} of “{label}”"
        tags = _undo_offer(
            request,
            changed,
            undone=f"Undone: the {steps} are back as they were.",
            anchor=f"stage-{stage}",
        )
        messages.success(
            request,
            # Short: a phone shows four lines of it beside Undo, and the longer sentence was
            # cut off there (a walk-through). Not "your path goes on past them": said of a
            # later stage, while the next step was still in the first (a walk-through).
            f"Marked {steps} as known: your queue leaves them out.",
            extra_tags=tags,
        )
    else:
        request.session.pop(UNDO_SESSION_KEY, None)  # see progress_forget
        messages.success(
            request,
            f"Nothing to mark in “{label}”: each step is behind you, being read or saved for "
            "later.",
        )
    return HttpResponseRedirect(reverse("learn:path") + f"#stage-{stage}")


# Never cached: for a learner it shows their private note (the back button after signing out on
# a shared computer must not show it again).
@never_cache
def resource(
    request: HttpRequest,
    resource_id: int,
    *,
    note_form: NoteForm | None = None,
    note_changed: bool = False,
    status: int = 200,
) -> HttpResponse:
    """One resource: what it is, why it is on the path, the learner's state and note, similar
    ones. `note_form` is a refused note (note_save), shown with its error and its text;
    `note_changed` says it was refused because another tab changed the note, whose saved text
    the page then shows beside it."""
    found = _visible_resource(request, resource_id)
    note = (
        recommender_selectors.note_of(user=_learner(request), resource_id=found.pk)
        if request.user.is_authenticated
        else None
    )
    if note_form is None:
        saved = note.text if note else ""
        note_form = NoteForm(
            initial={"text": saved, "based_on": recommender_services.note_version(saved)}
        )
    card = runtime.cards([found])[0]
    # Its areas say which are the learner's focus, as its card in the queue does: out of the
    # queue, the page said only "Part of the Security stage" of an item on her main focus (a
    # walk-through).
    level, focus = (
        recommender_selectors.level_and_focus(user=_learner(request))
        if request.user.is_authenticated
        else (None, {})
    )
    similar = queue.resource_similar(resource_id=found.pk, limit=5, level=level) or []
    similar_cards = runtime.cards([item for item, _ in similar])
    states = selectors.learner_states(
        user=request.user, resource_ids=[found.pk, *(c["id"] for c in similar_cards)]
    )
    steps = list(found.path_steps.all())
    state = states.get(found.pk)
    # Finished here: the reading goes on from this page, with the queue's next item.
    up_next = None
    if state is not None and state.state in (ProgressState.COMPLETED, ProgressState.SKIPPED):
        head = queue.queue_build(user=_learner(request), limit=1).items
        up_next = head[0] if head else None
    # The queue's next item says so, and offers what its queue card offers ("Not now", not
    # "Save for later"): a walk-through met both for one item and could not tell which held.
    is_next = False
    queued_at = None
    # The queue's own reasons for it, when it is queued: the page's "Part of the Security
    # stage of the catalog" read beside the queue's "Covers your focus" (a walk-through).
    queue_reasons: list[dict[str, Any]] = []
    if request.user.is_authenticated and (
        state is None or (state.state == ProgressState.PLANNED and not state.put_off_until)
    ):
        # The API's `next`, cached per learner: a page view seldom pays for a queue.
        upcoming = queue.next_answer(user=_learner(request))["recommendation"]
        is_next = upcoming is not None and upcoming["resource"]["id"] == found.pk
        if is_next:
            queue_reasons = upcoming["reasons"]
        else:
            # Further down Up next, it offers what its card there offers too ("Not now", not
            # "Save for later": a walk-through could not tell the two apart). Cached as well.
            listed = queue.queue_answer(user=_learner(request), limit=QUEUE_LENGTH, minutes=None)
            ids = [item["resource"]["id"] for item in listed["results"]]
            queued_at = ids.index(found.pk) + 1 if found.pk in ids else None
            if queued_at is not None:
                queue_reasons = listed["results"][queued_at - 1]["reasons"]
    areas = [
        {**area, "focus": focus_label(focus[area["slug"]]) if area["slug"] in focus else ""}
        for area in card["security_areas"]
    ]
    ways = selectors.step_alternatives(resource_ids=[found.pk], user=request.user).get(found.pk)
    other_ways = ways.others if ways is not None else []
    # A step the learner's reading made needless (an outdated one, or one with another way to
    # it) is out of their queue: say why (no query for a resource that is neither).
    replaced_by = (
        queue.replaced_by(user=_learner(request), resource_id=found.pk)
        if request.user.is_authenticated and state is None
        else None
    )
    return render(
        request,
        "learn/resource.html",
        {
            "card": card,
            "resource": found,
            "steps": steps,
            "state": state,
            "up_next": up_next,
            "is_next": is_next,
            "queued_at": queued_at,
            # The step itself is said already, and health notes have their own place.
            "queue_reasons": [
                reason
                for reason in queue_reasons
                if reason["kind"] != "path_step" and reason["kind"] not in queue.HEALTH_KINDS
            ],
            "replaced_by": replaced_by,
            "areas": areas,
            "step_other_ways": other_ways,
            "superseded_by": selectors.superseded_by(card),
            "similar": [{"card": c, "state": states.get(c["id"])} for c in similar_cards],
            "rating_choices": range(1, 6),
            "note": note,
            "note_form": note_form,
            "note_changed": note_changed,
        },
        status=status,
    )


NOTE_CHANGED_ELSEWHERE = (
    "Not saved: this note was changed in another tab or on another device after this page "
    "was opened. The saved note is shown below; Save again to replace it with your text."
)
NOTE_GONE = (
    "Not saved: this note was removed in another tab or on another device after this page "
    "was opened. Save again to keep your text as the note."
)


@require_safe
def guide(request: HttpRequest, slug: str) -> HttpResponse:
    """A catalog resource whose text kubelearn serves itself (learn.guides), for anyone who
    may see the resource."""
    if slug not in guides.GUIDES:
        if slug.lower() in guides.GUIDES:  # typed or linked in capitals: the one address
            return redirect("learn:guide", slug.lower(), permanent=True)
        raise Http404("No such guide.")
    found = get_object_or_404(
        catalog_selectors.resource_list(user=request.user, relations=False), slug=slug
    )
    areas = frozenset(SecurityArea.objects.values_list("slug", flat=True))
    return render(
        request,
        "learn/guide.html",
        {
            "card": runtime.cards([found])[0],
            "body": guides.guide_html(slug, areas),
            # Done, started, saved: as its page says it (a walk-through marked it done and
            # the guide looked the same).
            "state": selectors.learner_states(user=request.user, resource_ids=[found.pk]).get(
                found.pk
            ),
        },
    )


@require_POST
@_signed_in_to_post
def note_save(request: HttpRequest, resource_id: int) -> HttpResponse:
    """Save (or, emptied, remove) the learner's note on a resource; then back to its page."""
    found = _visible_resource(request, resource_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        had_note = recommender_selectors.note_of(user=_learner(request), resource_id=found.pk)
        try:
            note, _ = recommender_services.note_set(
                user=_learner(request),
                resource=found,
                text=form.cleaned_data["text"],
                # A form from before this check sends none: it saves as it always did.
                based_on=form.cleaned_data["based_on"] if "based_on" in request.POST else None,
            )
        except recommender_services.NoteChanged as changed:
            # The typed text comes back unsaved beside the note as it is now; the form is now
            # based on that note, so Save again replaces it on purpose.
            data = request.POST.copy()
            data["based_on"] = recommender_services.note_version(
                changed.current.text if changed.current is not None else ""
            )
            form = NoteForm(data)
            form.is_valid()
            form.add_error("text", NOTE_CHANGED_ELSEWHERE if changed.current else NOTE_GONE)
            return resource(request, found.pk, note_form=form, note_changed=True, status=409)
        except ValidationError as error:
            form.add_error("text", error.message_dict["text"])
        else:
            # Sticky, as the progress actions' messages: the learner is at the note, further
            # down, and read nothing ("Note saved." was off-screen at the page's top, in a
            # walk-through). Without script the page opens at the note, under the message.
            if note is not None:
                messages.success(request, "Note saved.", extra_tags="sticky")
            elif had_note:
                messages.success(request, "Note removed.", extra_tags="sticky")
            else:
                messages.info(request, "Nothing saved: the note was empty.", extra_tags="sticky")
            return HttpResponseRedirect(reverse("learn:resource", args=[found.pk]) + "#notes")
    # The page again, with the message and the text as typed, so nothing is lost.
    return resource(request, found.pk, note_form=form, status=400)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def focus(request: HttpRequest) -> HttpResponse:
    areas = list(SecurityArea.objects.order_by("pk"))
    profile = recommender_selectors.learner_profile(user=_learner(request))
    if request.method == "POST":
        form = FocusForm(request.POST, areas=areas)
        if form.is_valid():
            shown = form.cleaned_data["shown"]
            try:
                recommender_services.profile_update(
                    user=_learner(request),
                    focus=form.cleaned_data["focus"],
                    level=form.cleaned_data["level"],
                    minutes_budget=form.cleaned_data["minutes_budget"],
                    only_if=(lambda version: version == shown) if shown else None,
                )
            except recommender_services.ProfileChanged:
                return _focus_changed_since(request, form, areas)
            messages.success(
                request,
                _focus_saved_message(
                    user=_learner(request),
                    area_names={area.slug: area.name for area in areas},
                    focus=form.cleaned_data["focus"],
                    minutes_budget=form.cleaned_data["minutes_budget"],
                    level=form.cleaned_data["level"],
                    level_was=profile.level if profile else None,
                ),
            )
            return redirect("learn:focus")
        status = 400
    else:
        initial: dict[str, Any] = {
            "level": profile.level if profile else None,
            "minutes_budget": profile.minutes_budget if profile else None,
            "shown": recommender_services.profile_version(profile),
        }
        if profile:
            slugs = {area.pk: area.slug for area in areas}
            for item in profile.focus.all():
                initial[FocusForm.field_name(slugs[item.area_id])] = focus_level(item.weight)
        form = FocusForm(initial=initial, areas=areas)
        status = 200
    return _focus_page(request, form, status)


def _focus_page(request: HttpRequest, form: FocusForm, status: int) -> HttpResponse:
    coverage = selectors.coverage(user=_learner(request))
    return render(
        request,
        "learn/focus.html",
        {
            "form": form,
            "coverage": coverage,
            "chart": svg.coverage_chart(coverage),
            "nothing_covered": not any(area.completed or area.known for area in coverage),
        },
        status=status,
    )


def _focus_changed_since(
    request: HttpRequest, form: FocusForm, areas: list[SecurityArea]
) -> HttpResponse:
    """409: the profile changed after this Focus page was made (another tab, another device),
    so its choices were not saved over the newer ones. The page again with the learner's
    choices as they left them, what is saved now, and the version to save over it with."""
    profile = recommender_selectors.learner_profile(user=_learner(request))
    saved = _focus_described(
        {area.slug: area.name for area in areas},
        {item.area.slug: item.weight for item in profile.focus.all()} if profile else {},
        profile.minutes_budget if profile else None,
    )
    level = profile.level if profile else None
    said_level = (
        f"level {Difficulty(level).label}" if level else "no level set (judged by what you read)"
    )
    messages.error(
        request,
        "Not saved: your focus was changed after this page was loaded (in another tab or on "
        f"another device?). Saved now{saved}, {said_level}. Your choices are below as you "
        "left them: save again to replace it.",
    )
    data = request.POST.copy()
    data["shown"] = recommender_services.profile_version(profile)
    return _focus_page(request, FocusForm(data, areas=areas), 409)


def _focus_saved_message(
    *,
    user: User,
    area_names: Mapping[str, str],
    focus: Mapping[str, float],
    minutes_budget: int | None,
    level: int | None = None,
    level_was: int | None = None,
) -> str:
    """What was saved, and what the queue does with the focus, as it is: "now leans towards
    it" was said of a queue that did not change (a walk-through: no area chosen, every area
    "Not a focus", or a focus the learner's queue did not reach yet). It names every area
    chosen (a walk-through's message named only the main one) and the time budget saved with
    them (another saved 30 minutes and was told only of a step that did not fit in 5), but not
    which step waits for a longer session: Up next says that, where it is seen (a walk-through
    found it a wall of text here, about a queue not seen yet)."""
    result = queue.queue_build(user=user, limit=QUEUE_LENGTH)
    saved = f"Focus saved{_focus_described(area_names, focus, minutes_budget)}."
    # A changed level is said, last: a walk-through's learner went from Beginner to Advanced
    # and was told only of the focus and the budget.
    if level == level_was:
        changed = ""
    elif level is not None:
        changed = f" Your level is now {Difficulty(level).label}."
    else:
        changed = " Your level is no longer set: it is judged by what you complete."
    return _focus_queue_sentence(user=user, focus=focus, saved=saved, result=result) + changed


def _focus_described(
    area_names: Mapping[str, str], focus: Mapping[str, float], minutes_budget: int | None
) -> str:
    """ ": Network policy (main focus) and Secrets (a lot), with 30 minutes a session" (", with
    no time budget" without a focus), to follow "Focus saved" or "Saved now"."""
    budget = (
        f"{minutes_budget} minute{'' if minutes_budget == 1 else 's'} a session"
        if minutes_budget
        else "no time budget"
    )
    chosen = sorted(focus.items(), key=lambda pair: (-pair[1], area_names.get(pair[0], pair[0])))
    named = [
        f"{area_names.get(slug, slug)} ({focus_label(weight).lower()})" for slug, weight in chosen
    ]
    return f": {and_list(named)}, with {budget}" if focus else f", with {budget}"


def _focus_items(result: queue.Queue) -> int:
    """How many of the queue's items are there for the learner's focus."""
    return sum(
        1 for item in result.items if any(reason["kind"] == "focus" for reason in item.reasons)
    )


def _there_for_it(count: int, of: str) -> str:
    """ "3 of the 10 items in your queue are there for your focus" (``of``: "the 10"); "for
    it" left a walk-through's learner asking what "it" was, after a message naming three
    areas and a budget."""
    verb = "is" if count == 1 else "are"
    return f"{count} of {of} items in your queue {verb} there for your focus"


def _focus_queue_sentence(
    *, user: User, focus: Mapping[str, float], saved: str, result: queue.Queue
) -> str:
    """``saved`` (what was saved), then what the queue does with the focus."""
    if not focus:
        # The level may still start the path further on (rules.level_entry): the note says so.
        said = result.path_note or "Your queue follows the path in order."
        return f"{saved} No security area is chosen. {said}"
    if result.path_note:  # the queue's own words: a beginner's path starts with the basics, …
        return f"{saved} {result.path_note}"
    serving = _focus_items(result)
    if serving:
        return f"{saved} {_there_for_it(serving, f'the {len(result.items)}')}."
    if not recommender_selectors.open_in_areas(user=user, areas=focus.keys()):
        return (
            f"{saved} Everything the catalog has in it is behind you (completed, known or "
            "skipped), so your queue follows the path."
        )
    if result.minutes_budget:
        # The budget, not the path, left it out: a walk-through's learner with 30 minutes was
        # told its resources "come later on your path", and the whole queue held three.
        whole = queue.queue_build(user=user, limit=QUEUE_LENGTH, unlimited=True)
        there = _focus_items(whole)
        if there:
            return (
                f"{saved} {_there_for_it(there, f'the next {len(whole.items)}')}, but none "
                f"fits in this session's {result.minutes_budget} minutes (“no limit” on Up "
                "next shows them)."
            )
    return (
        f"{saved} Nothing in your queue is there for your focus yet: its resources come later "
        "on your path or above your level. The Path page shows where they are."
    )


#: Browse's filters by slug, with the names the page gives them.
BROWSE_SLUG_FILTERS = (("area", "Security area"), ("tag", "Topic"), ("author", "Author"))
# The names Browse's form gives its filters, and the choices of those that have a fixed set.
BROWSE_LABELS = {"stage": "Stage", "kind": "Kind", **dict(BROWSE_SLUG_FILTERS)}
BROWSE_CHOICES: dict[str, list[tuple[str, str]]] = {"stage": Stage.choices, "kind": Kind.choices}
# Browse's "Order" choices (?sort=); without one: best match when searching, else by title (the
# API's order). "Basics first" is the path's order within each stage, then the rest by
# difficulty. Stage values sort in the path's order (getting-started, production-ready,
# security: tests/learn/test_browse_order.py holds that).
BROWSE_ORDERS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "stage": (
        "Basics first",
        ("stage", selectors.PATH_POSITION.asc(nulls_last=True), "difficulty", "title", "id"),
    ),
    "newest": (
        "Newest first, undated last",
        (F("published_at").desc(nulls_last=True), "title", "id"),
    ),
    # What joined the catalog last first: Up next's "welcome back" links here.
    "added": ("Recently added", (selectors.ADDED_AT.desc(), "title", "id")),
    "shortest": ("Shortest first", (F("estimated_minutes").asc(nulls_last=True), "title", "id")),
    "easiest": ("Easiest first", ("difficulty", "title", "id")),
}


def _browse_filter_errors(filterset: ResourceFilter, given: QueryDict) -> list[tuple[str, str]]:
    """The filters' errors as Browse words them: under the names its form gives the filters
    (a walk-through read "Tags slug" for Topic), a choice that does not exist with those that
    do (Django's "Select a valid choice" named neither), a filter given twice as such."""
    fields = filterset.form.fields
    errors = []
    for name, problems in filterset.form.errors.as_data().items():
        label = BROWSE_LABELS.get(name) or str(fields[name].label if name in fields else name)
        choices = BROWSE_CHOICES.get(name, ())
        words = []
        for problem in problems:
            if len(given.getlist(name)) > 1:
                words.append(f"Choose one {label.lower()} at a time.")
            elif problem.code == "invalid_choice" and choices:
                names = ", ".join(f"“{choice}”" for _, choice in choices)
                value = given.get(name, "")[:40]
                words.append(f"There is no {label.lower()} “{value}”; choose one of {names}.")
            else:
                words.extend(problem.messages)
        errors.append((label, " ".join(dict.fromkeys(words))))
    return errors


def browse(request: HttpRequest) -> HttpResponse:
    """The approved catalog with the API's filters (same FilterSet, same search, same order)."""
    if "q" in request.GET and "search" not in request.GET:
        # ?q= is what most sites' search links say (and what the Notes page uses): a typed or
        # shared /browse/?q=rbac listed the whole catalog without a word.
        renamed = request.GET.copy()
        renamed.setlist("search", renamed.pop("q"))
        return HttpResponseRedirect(f"{reverse('learn:browse')}?{renamed.urlencode()}")
    # Cards fetch the relations of the resources they have not serialised yet.
    queryset = catalog_selectors.resource_list(user=None, relations=False)
    # The form's "Any …" options send an empty value: on this page that means no filter
    # (the API refuses `?kind=`, which no client sends on purpose).
    given = request.GET.copy()
    for name in [name for name, values in given.lists() if not any(values)]:
        del given[name]
    # Welcome back's link: "Recently added" marks what joined since the learner's last visit.
    since = _aware_moment((given.pop("since", None) or [""])[-1])
    filterset = ResourceFilter(given, queryset=queryset)
    choices = selectors.browse_choices()
    context: dict[str, Any] = {
        "filters": filterset.form,
        "choices": choices,
        "kinds": Kind.choices,
        "stages": Stage.choices,
        "query": request.GET,
        # Counted on the folded filters' summary; what they are shows above the results.
        "filters_in_use": sum(1 for name in FOLDED_FILTERS if name in given),
        "orders": [(value, label) for value, (label, _) in BROWSE_ORDERS.items()],
    }
    # A slug the catalog does not offer (mistyped, or an old link) says so, as a bad stage
    # does, instead of a silent "0 results".
    unknown_slugs = [
        (name, label)
        for name, label in BROWSE_SLUG_FILTERS
        # (Given twice, it is refused as such, whatever the values.)
        if len(given.getlist(name)) == 1 and given[name] not in {slug for slug, _ in choices[name]}
    ]
    unknown = [
        (label, f"There is no {label.lower()} “{given[name][:40]}” in the catalog.")
        for name, label in unknown_slugs
    ]
    sort = given.get("sort")
    if sort is not None and sort not in BROWSE_ORDERS:
        # The default first, as the select offers it (a walk-through missed it in the list).
        default = "“Best match”" if request.GET.get("search", "").strip() else "“Title, A to Z”"
        names = ", ".join([default, *(f"“{label}”" for label, _ in BROWSE_ORDERS.values())])
        unknown.append(("Order", f"There is no order “{sort[:40]}”; choose one of {names}."))
    if not filterset.is_valid() or unknown:
        context["filter_errors"] = _browse_filter_errors(filterset, given) + unknown
        # The folded filters' count leaves out those that could not be used: their selects
        # show "Any …" (a walk-through read "1 in use" above "Any stage").
        unusable = {*filterset.form.errors, *(name for name, _ in unknown_slugs)}
        context["filters_in_use"] = sum(
            1 for name in FOLDED_FILTERS if name in given and name not in unusable
        )
        return render(request, "learn/browse.html", {**context, "page": None}, status=400)
    # The API's search and order: best match first when searching, else the catalog's order.
    search = request.GET.get("search", "").strip()
    results = filterset.qs
    if search:
        results = catalog_selectors.resource_search(resources=results, text=search).order_by(
            *catalog_selectors.SEARCH_ORDERING
        )
    else:
        results = results.order_by(*ResourceViewSet.ordering)
    if sort is not None:
        results = results.order_by(*BROWSE_ORDERS[sort][1])
    if sort == "added":
        results = results.annotate(added_at=selectors.ADDED_AT)  # each card says when
    # Said to the learner whose last visit it is (a visitor following the link is told nothing).
    new_since = since if sort == "added" and request.user.is_authenticated else None
    page = _page(request, results)
    cards = runtime.cards(list(page.object_list))
    added = {row.pk: row.added_at for row in page.object_list} if sort == "added" else {}
    query = request.GET.copy()
    query.pop("page", None)
    # Nothing found: perhaps a typo ("rbca"); offer the spelling that finds something here.
    suggestion = (
        catalog_selectors.search_suggestion(resources=filterset.qs, text=search)
        if search and not page.paginator.count
        else None
    )
    suggested = query.copy()
    suggested["search"] = suggestion or ""
    single_words = (
        catalog_selectors.search_words_that_find(resources=filterset.qs, text=search)
        if search and not suggestion and not page.paginator.count
        else []
    )
    one_word = []
    for word, count in single_words:
        alone = query.copy()
        alone["search"] = word
        one_word.append({"word": word, "count": count, "query": alone.urlencode()})
    narrowed = any(name not in ("search", "sort", "page") for name in given)
    # The same words over the whole catalog, spelt as they find something there: the link
    # kept "netwrok" and led to a second empty page (walk-through).
    everywhere = search
    if search and narrowed and not suggestion and not page.paginator.count:
        whole = catalog_selectors.resource_list(user=None, relations=False)
        if not catalog_selectors.resource_search(resources=whole, text=search).exists():
            everywhere = catalog_selectors.search_suggestion(resources=whole, text=search) or search
    return render(
        request,
        "learn/browse.html",
        {
            **context,
            "page": page,
            "items": [
                {**item, "added_at": added.get(item["card"]["id"])}
                for item in selectors.with_notes(
                    selectors.cards_with_states(cards, user=request.user), user=request.user
                )
            ],
            "query_string": query.urlencode(),
            "search": search,
            # "every word you typed" said of one word read oddly (walk-through).
            "several_words": catalog_selectors.search_word_count(search) > 1,
            # For an empty result: whether filters besides the words narrowed it, and the
            # same words over the whole catalog.
            "narrowed": narrowed,
            "search_everywhere": urlencode({"search": everywhere}) if search else "",
            "everywhere_as": everywhere if everywhere != search else "",
            "suggestion": suggestion,
            "suggestion_query": suggested.urlencode() if suggestion else "",
            "one_word": one_word,
            "narrowed_by": _narrowed_by(given, choices),
            "rating_choices": range(1, 6),
            "new_since": new_since,
            "new_count": results.filter(added_at__gt=new_since).count() if new_since else 0,
        },
    )


def _aware_moment(text: str) -> datetime | None:
    """An ISO 8601 moment with its offset, or None (a hand-edited or cut link: nothing marked)."""
    try:
        moment = parse_datetime(text[:64])
    except ValueError:
        return None
    return moment if moment is not None and timezone.is_aware(moment) else None


def _narrowed_by(given: QueryDict, choices: dict[str, list[tuple[str, str]]]) -> list[dict]:
    """The folded filters in use, each with its label, its value's name and the address
    without it: on a phone the filters stay folded (a topic link from a resource page opened
    on a screen of selects), and these say what narrows the list, each removable."""
    names = {
        "stage": dict(Stage.choices),
        "kind": dict(Kind.choices),
        **{name: dict(choices[name]) for name, _ in BROWSE_SLUG_FILTERS},
    }
    labels = {"stage": "Stage", "kind": "Kind", **dict(BROWSE_SLUG_FILTERS)}
    narrowed = []
    for name in FOLDED_FILTERS:
        if name not in given:
            continue
        value = str(given.get(name, ""))
        rest = given.copy()
        del rest[name]
        rest.pop("page", None)
        narrowed.append(
            {
                "label": labels[name],
                "value": names[name].get(value, value),
                "without": rest.urlencode(),
            }
        )
    return narrowed


@never_cache
@login_required
def history(request: HttpRequest) -> HttpResponse:
    """What the learner completed or skipped, newest first, with the same actions as elsewhere
    (rate again, clear) and a CSV download of all their progress."""
    form = HistoryForm(request.GET)
    learner = _learner(request)
    shows = HistoryForm.base_fields["show"].choices  # type: ignore[attr-defined]
    totals = selectors.history_totals(user=learner)
    notes_count = recommender_selectors.note_list(user=learner, withdrawn=True).count()
    show = (form.cleaned_data["show"] or "all") if form.is_valid() else ""
    if not totals.known and show != "known":
        # "Already known" is there once the Path page's "I know these" has marked something.
        shows = [(value, label) for value, label in shows if value != "known"]
    if not form.is_valid():
        # A mistyped or stale ?show= (the only field) gets History itself, saying what it can
        # show, with the choices one click away: as Up next does for a bad time budget.
        return render(
            request,
            "learn/history.html",
            {
                "unknown_show": request.GET.get("show", ""),
                "shows": shows,
                "totals": totals,
                "notes_count": notes_count,
                "items": [],
            },
            status=400,
        )
    page = _page(request, selectors.history(user=learner, show=show))
    rows = list(page.object_list)
    cards = runtime.cards([row.resource for row in rows])
    return render(
        request,
        "learn/history.html",
        {
            "page": page,
            "items": selectors.with_notes(
                [
                    {
                        "card": card,
                        "state": selectors.LearnerState.of(row),
                        "when": row.listed_at,
                    }
                    for card, row in zip(cards, rows, strict=True)
                ],
                user=learner,
            ),
            "show": show,
            "query_string": urlencode({"show": show}),
            "shows": shows,
            "totals": totals,
            "notes_count": notes_count,
            "rating_choices": range(1, 6),
        },
    )


@never_cache
@login_required
def notes(request: HttpRequest) -> HttpResponse:
    """All the learner's notes, the most recently written first, each under its resource;
    ?q= keeps those whose text or resource title contains it (the words shown marked)."""
    search = " ".join(request.GET.get("q", "").split())[:NOTES_SEARCH_MAX_CHARS]
    found = recommender_selectors.note_list(user=_learner(request), search=search, withdrawn=True)
    page = _page(request, found)
    return render(
        request,
        "learn/notes.html",
        {
            "page": page,
            "notes": list(page.object_list),
            "search": search,
            "query_string": urlencode({"q": search}) if search else "",
            "search_catalog": urlencode({"search": search}),
            # Whether to offer the search at all, and what "no match" is measured against.
            "has_notes": bool(page.object_list)
            or (
                bool(search)
                and recommender_selectors.note_list(user=_learner(request), withdrawn=True).exists()
            ),
        },
    )


# A search longer than this finds nothing a shorter one would not; the page repeats it.
NOTES_SEARCH_MAX_CHARS = 200


@never_cache
@login_required
def history_download(request: HttpRequest) -> HttpResponse:
    # A byte-order mark: spreadsheet programs take a file without one for their legacy code
    # page, and a note in Japanese or a title with "é" comes out garbled.
    response = HttpResponse(
        "\ufeff"
        + export.progress_csv(
            user=_learner(request),
            page_url=lambda resource_id: request.build_absolute_uri(
                reverse("learn:resource", args=[resource_id])
            ),
        ),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="kubelearn-progress.csv"'
    return response


SIGNED_UP_MESSAGE = "Welcome to kubelearn! Pick a focus, or start with your first step below."
SIGNED_UP_BACK_MESSAGE = (
    "Welcome to kubelearn! You are back where you were; Up next has your reading queue."
)


@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    """Sign up; then back to the page the visitor came from (`next`), else Up next."""
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if next_url == reverse("learn:home"):
        next_url = ""  # where signing up lands anyway (and where a refused `next` goes)
    if request.user.is_authenticated:
        return redirect(next_url or "learn:home")
    if request.method == "POST":
        form = SignUpForm(request.POST)
        if form.is_valid():
            try:
                # The API's registration service: one account, one API token.
                user, _ = account_register(
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                )
            except IntegrityError:
                form.add_error("username", "This username is taken.")
            else:
                if form.cleaned_data.get("level") is not None:
                    recommender_services.profile_update(
                        user=cast(User, user), level=form.cleaned_data["level"]
                    )
                login(
                    request,
                    cast(User, user),
                    backend="kubelearn.signin.AnyCaseUsernameBackend",
                )
                messages.success(request, SIGNED_UP_BACK_MESSAGE if next_url else SIGNED_UP_MESSAGE)
                if form.cleaned_data.get("email"):
                    # Reset links go to it once its owner opens the link mailed to it.
                    change = services.account_email_request(
                        user=cast(User, user),
                        email=form.cleaned_data["email"],
                        link_for=emails.link_for(request),
                    )
                    _email_change_say(request, change, cast(User, user))
                return redirect(next_url or "learn:home")
        return render(request, "learn/signup.html", {"form": form, "next": next_url}, status=400)
    return render(request, "learn/signup.html", {"form": SignUpForm(), "next": next_url})


class SignOutView(auth_views.LogoutView):
    """Signing out is a POST with a CSRF token (the header's button).

    A GET (a typed or bookmarked /signout/, a link from elsewhere) shows the same button on a
    page of its own, where Django's view answers a bare 405; a visitor who is not signed in is
    sent on, to `next` if it is safe, else home.
    """

    http_method_names = ["get", "post", "options"]
    template_name = "learn/signout.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(self.get_success_url())
        return self.render_to_response({"next": self.get_redirect_url()})

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        # After the session is flushed: the message goes with the new, anonymous one, to the
        # page signing out lands on.
        messages.success(request, "You are signed out.")
        return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """The account page: the private feed address (create, replace, turn off)."""
    if request.method == "POST":
        form = FeedActionForm(request.POST)
        if not form.is_valid():
            return render(request, "learn/bad_request.html", {"form": form}, status=400)
        action = form.cleaned_data["action"]
        if action == "create":
            _, created = services.queue_feed_create(user=_learner(request))
            if created:
                messages.success(request, FEED_READY)
            else:
                messages.info(request, FEED_MADE_ELSEWHERE)
        elif action == "renew":
            had_one = selectors.queue_feed(user=_learner(request)) is not None
            replacing = form.cleaned_data["replacing"] or None
            if services.queue_feed_renew(user=_learner(request), replacing=replacing) is None:
                messages.error(request, FEED_RENEWED_ELSEWHERE)
            else:
                messages.success(request, FEED_RENEWED if had_one else FEED_READY)
        else:
            services.queue_feed_revoke(user=_learner(request))
            messages.success(request, "Your feed is turned off.")
        return redirect("learn:account")
    learner = _learner(request)
    return _account_page(request, AccountEmailForm(initial={"email": learner.email}, user=learner))


FEED_READY = "Your feed is ready: add its address to your feed reader."
FEED_RENEWED = "Your feed has a new address; the old one no longer works."
# A second tab's click on an old page (a walk-through's "Create" in a second tab replaced the
# address the first had just made, which may have been in a reader already).
FEED_MADE_ELSEWHERE = (
    "Your feed already had an address, made after this page was loaded (in another tab or on "
    "another device?). It is below, unchanged."
)
FEED_RENEWED_ELSEWHERE = (
    "Not replaced: your feed's address was replaced after this page was loaded (in another tab "
    "or on another device?). The address below is the new one; choose New address again to "
    "replace it too."
)


def _account_page(request: HttpRequest, email_form: AccountEmailForm, status: int = 200):
    feed = selectors.queue_feed(user=_learner(request))
    feed_url = (
        request.build_absolute_uri(reverse("learn:queue-feed", args=[feed.key])) if feed else None
    )
    return render(
        request,
        "learn/account.html",
        {
            "feed_url": feed_url,
            "feed_key": feed.key if feed else "",
            "feed_length": FEED_LENGTH,
            "email_form": email_form,
            "pending_email": selectors.pending_email(user=_learner(request)),
            "confirm_days": emails.confirm_days(),
        },
        status=status,
    )


def _email_change_say(request: HttpRequest, change: services.EmailChange, user: User) -> None:
    """The message after an address was asked for: where reset links go now, and what the
    learner does next."""
    text = services.email_change_message(change, user=user, resend_where="your account page")
    if change.outcome in (services.EmailOutcome.LIMITED, services.EmailOutcome.UNSENT):
        messages.info(request, text)
    else:
        messages.success(request, text)


@login_required
@require_POST
def account_email(request: HttpRequest) -> HttpResponse:
    """Ask for a new reset address (mailed a link to confirm it), or remove it."""
    user = _learner(request)
    form = AccountEmailForm(request.POST, user=user)
    if not form.is_valid():
        return _account_page(request, form, status=400)
    change = services.account_email_request(
        user=user, email=form.cleaned_data["email"], link_for=emails.link_for(request)
    )
    _email_change_say(request, change, user)
    return redirect("learn:account")


@login_required
@require_POST
def account_email_pending(request: HttpRequest) -> HttpResponse:
    """The waiting address: send its link again, or drop it. Neither asks the password: the
    link still goes only to that address, and dropping it changes nothing that works."""
    form = PendingEmailActionForm(request.POST)
    if not form.is_valid():
        return render(request, "learn/bad_request.html", {"form": form}, status=400)
    user = _learner(request)
    if form.cleaned_data["action"] == "resend":
        change = services.email_confirmation_send(user=user, link_for=emails.link_for(request))
        _email_change_say(request, change, user)
    elif cancelled := services.email_confirmation_cancel(user=user):
        messages.success(
            request,
            "Cancelled: the link we sent no longer works."
            if cancelled.sent_at
            else f"Cancelled: {cancelled.email} no longer waits.",
        )
    return redirect("learn:account")


@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link mailed to a new address. Opening it shows a button; pressing it confirms. A
    mail scanner that fetches every link it sees confirms nothing. Signing in is not needed:
    the link itself shows the mailbox is theirs."""
    try:
        link = emails.confirmation_read(token)
        if request.method == "POST":
            confirmed = services.email_confirm(link=link)
        else:
            confirmed = services.email_confirmation_check(link=link)
    except (emails.ConfirmationLinkInvalid, services.EmailNotConfirmed) as exc:
        # No "Go to your account page" for a deleted account (a walk-through was offered it).
        gone = isinstance(exc, services.EmailAccountGone)
        return render(
            request,
            "learn/email_confirm.html",
            {"problem": str(exc), "account_gone": gone},
            status=400,
        )
    return render(
        request,
        "learn/email_confirm.html",
        {
            "confirmed": confirmed,
            "done": request.method == "POST" or confirmed.already,
            "mine": request.user == confirmed.user,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    """Delete the account and everything in it, after the password is typed again."""
    user = _learner(request)
    form = AccountDeleteForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_delete(user=user)
        except services.AccountNotDeletable as exc:
            form.add_error(None, str(exc))
        else:
            logout(request)
            request.session[ACCOUNT_DELETED_KEY] = True
            # The page after says so to kubelearn.js, which forgets this tab's unsaved note
            # drafts as signing out does (a walk-through found one kept after the deletion).
            messages.success(
                request,
                "Your account and everything in it are deleted. Goodbye!",
                extra_tags="forget-drafts",
            )
            return redirect("learn:home")
    status = 400 if request.method == "POST" else 200
    return render(request, "learn/account_delete.html", {"form": form}, status=status)


@never_cache
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form posted with a token that no longer matches (the page was open
    while the learner signed out and in again, or for very long), in plain words and in the
    site's layout, with a link back to the page it came from to reload it. Still a 403.

    `reason` is Django's wording for developers ("CSRF token incorrect."); it is not shown.
    """
    # The Referer is the page with the form; another site's address, or none, gives home.
    back = _safe_next(request, request.headers.get("Referer"))
    return render(request, "learn/csrf_failure.html", {"back": back}, status=403)
