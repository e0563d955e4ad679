"""Reads for the learner pages, built on the catalog's and the recommender's own selectors.

Everything the API also answers (queue, similar, path steps, filters) comes from the same
functions the API views call; what is here only arranges it for a page (states beside steps,
counts per stage and per security area), in a fixed number of queries.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Case, Count, F, Min, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from catalog import selectors as catalog_selectors
from catalog.models import (
    Author,
    PathStep,
    Resource,
    SecurityArea,
    Stage,
    Status,
    Tag,
)
from learn.models import PendingEmail, QueueFeed
from recommender import queue
from recommender import selectors as recommender_selectors
from recommender.models import FocusArea, Note, Progress, ProgressState, taken_up
from recommender.runtime import runtime

# request.user on a page: django-stubs types it as User | AnonymousUser.
AnyUser = User | AnonymousUser

# States that count as "dealt with" on the path: the recommender treats a skip as satisfying
# a prerequisite, so the path page does too, but shows it apart from a completion.
FINISHED_STATES = frozenset({ProgressState.COMPLETED, ProgressState.SKIPPED})


def email_in_use(*, email: str, besides: User | None = None) -> bool:
    """Whether an account other than ``besides`` has confirmed this reset address, in any
    case (the password-reset form finds accounts by address case-insensitively, and mails
    each one)."""
    email = email.strip()
    if not email:
        return False
    others = User.objects.filter(email__iexact=email)
    if besides is not None:
        others = others.exclude(pk=besides.pk)
    return others.exists()


def pending_email(*, user: User) -> PendingEmail | None:
    """The address waiting for its owner to confirm it, if any."""
    return PendingEmail.objects.filter(user=user).first()


@dataclass(frozen=True)
class LearnerState:
    state: str
    rating: int | None
    known: bool = False
    later_until: datetime | None = None

    @classmethod
    def of(cls, row: Progress) -> LearnerState:
        return cls(row.state, row.rating, row.known, row.later_until)

    @property
    def put_off_until(self) -> datetime | None:
        """When an item put off ("Not now") comes back to the queue; None: it is not put off."""
        later = self.later_until
        return (
            later
            if self.state == ProgressState.PLANNED and later and later > timezone.now()
            else None
        )

    @property
    def returned(self) -> bool:
        """Put off with "Not now", and its day has come: back in the queue. Not saved by
        choice, so not counted or labelled as saved (a returning learner read "You saved 2
        items" having saved one)."""
        later = self.later_until
        return self.state == ProgressState.PLANNED and later is not None and later <= timezone.now()

    @property
    def label(self) -> str:
        # "Not now" on a queue card: saved, and back in the queue on a day it names.
        if back := self.put_off_until:
            return f"Not now: back {spoken_day(back, 'date')}"
        if self.returned:
            return "Back from “Not now”"
        # "Planned" is the API's word; on the pages a learner saves an item for later.
        if self.state == ProgressState.PLANNED:
            return "Saved for later"
        # Marked with "I know these" on the Path page: done, but not read here.
        if self.state == ProgressState.COMPLETED and self.known:
            return "Already known"
        # Up next's section and History's view say "Reading now": so does the item's label.
        if self.state == ProgressState.IN_PROGRESS:
            return "Reading now"
        return ProgressState(self.state).label


def learner_states(*, user: AnyUser | None, resource_ids: Iterable[int]) -> dict[int, LearnerState]:
    """The learner's state on each of these resources (absent: not started). One query."""
    if user is None or isinstance(user, AnonymousUser):
        return {}
    rows = (
        recommender_selectors.progress_list(user=user)
        .filter(resource_id__in=list(resource_ids))
        .values_list("resource_id", "state", "rating", "known", "later_until")
    )
    return {
        resource_id: LearnerState(state, rating, known, later_until)
        for resource_id, state, rating, known, later_until in rows
    }


@dataclass
class PathStepView:
    step: PathStep
    state: LearnerState | None
    # Learners are told its advice is outdated (a staleness flag shown): the Path page says
    # so as its cards do (a walk-through found the PodSecurityPolicy talk unmarked there).
    outdated: bool = False
    # The learner's focus areas it serves, by name: the Path page marks them (the Focus page
    # said "The Path page shows where they are", and it showed nothing).
    focus: tuple[str, ...] = ()
    # What the learner completed that makes this step needless for them (the other way to
    # it, or today's way for an outdated step): it is behind them, though not read.
    covered_by: Resource | None = None

    @property
    def finished(self) -> bool:
        return self.covered or (self.state is not None and self.state.state in FINISHED_STATES)

    @property
    def covered(self) -> bool:
        """Needless for this learner, who has done nothing with it themselves: one they saved,
        started or put off is theirs again (the queue offers it, as `Learner.replaced` says),
        and saving Docker Desktop after Minikube made it "not needed" and "your next step" at
        once (a walk-through)."""
        return self.covered_by is not None and self.state is None


def steps_behind(completed: int, known: int, skipped: int, covered: int = 0) -> str:
    """ "3 completed, 14 already known": the kinds of steps behind a learner, those there are;
    "" when all of them were completed (the count says it all then)."""
    if not known and not skipped and not covered:
        return ""
    parts = [
        (completed, "completed"),
        (known, "already known"),
        (skipped, "skipped"),
        (covered, "not needed"),
    ]
    return ", ".join(f"{count} {kind}" for count, kind in parts if count)


@dataclass
class StageView:
    stage: str
    label: str
    steps: list[PathStepView] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.steps)

    def _count(self, state: str, *, known: bool = False) -> int:
        return sum(
            1 for s in self.steps if s.state and s.state.state == state and s.state.known == known
        )

    @property
    def completed(self) -> int:
        """Read here: a step known already is not (History counts the two apart too)."""
        return self._count(ProgressState.COMPLETED)

    @property
    def known(self) -> int:
        return self._count(ProgressState.COMPLETED, known=True)

    @property
    def skipped(self) -> int:
        return self._count(ProgressState.SKIPPED)

    @property
    def covered(self) -> int:
        """Made needless by what the learner completed (see `PathStepView.covered_by`)."""
        return sum(1 for s in self.steps if s.covered)

    @property
    def finished(self) -> int:
        return self.completed + self.known + self.skipped + self.covered

    @property
    def remaining(self) -> int:
        return self.total - self.finished

    @property
    def all_behind(self) -> bool:
        """Every step of the stage is behind the learner: the Path page folds it away."""
        return self.total > 0 and not self.remaining

    def before(self, position: int | None) -> bool:
        """Every step of the stage comes before ``position`` (the learner's next step) and
        none is being read or saved: a stage the learner's level or focus starts them past,
        which the Path page folds away too (at 375 px the walk-through's Intermediate learner
        scrolled through 16 basics to reach her next step)."""
        return (
            position is not None
            and self.total > 0
            and all(s.step.position < position for s in self.steps)
            and not self.taken_up
        )

    @property
    def breakdown(self) -> str:
        return steps_behind(self.completed, self.known, self.skipped, self.covered)

    @property
    def percent(self) -> int:
        return round(100 * self.finished / self.total) if self.total else 0

    @property
    def taken_up(self) -> int:
        """Steps the learner is reading or saved for later: "I know these" leaves them be."""
        now = timezone.now()
        return sum(
            1
            for s in self.steps
            if not s.covered and s.state and taken_up(s.state.state, s.state.later_until, now=now)
        )

    @property
    def to_mark(self) -> int:
        """The steps "I know these" would mark as known."""
        return self.remaining - self.taken_up


@dataclass
class PathView:
    slug: str
    title: str
    description: str
    stages: list[StageView]

    @property
    def total(self) -> int:
        return sum(stage.total for stage in self.stages)

    @property
    def finished(self) -> int:
        return sum(stage.finished for stage in self.stages)

    @property
    def completed(self) -> int:
        return sum(stage.completed for stage in self.stages)

    @property
    def known(self) -> int:
        return sum(stage.known for stage in self.stages)

    @property
    def skipped(self) -> int:
        return sum(stage.skipped for stage in self.stages)

    @property
    def covered(self) -> int:
        return sum(stage.covered for stage in self.stages)

    @property
    def breakdown(self) -> str:
        return steps_behind(self.completed, self.known, self.skipped, self.covered)

    def step_at(self, position: int | None) -> PathStepView | None:
        return next(
            (s for stage in self.stages for s in stage.steps if s.step.position == position), None
        )


def path_view(*, user: AnyUser | None) -> PathView | None:
    """The recommender's path, its steps grouped by stage (in the seed's order of stages).

    Uses the same path and the same visible steps as /api/paths/<slug>/. Five queries, and
    one for a signed-in learner's focus.
    """
    primary = recommender_selectors.primary_path()
    if primary is None:
        return None
    path = catalog_selectors.path_list(user=user).get(pk=primary.pk)
    steps = list(path.steps.all())
    ids = [step.resource_id for step in steps]
    standing_in = queue.standing_in() if user is not None and user.is_authenticated else {}
    states = learner_states(
        user=user, resource_ids={*ids, *(o for i in ids for o in standing_in.get(i, ()))}
    )
    named = {step.resource_id: step.resource for step in steps}
    # A completed successor off the path (the queue leaves its outdated step out all the
    # same) is named too: one query, only when there is one.
    off_path = {
        other
        for i in ids
        for other in standing_in.get(i, ())
        if other not in named
        and (state := states.get(other)) is not None
        and state.state == ProgressState.COMPLETED
    }
    if off_path:
        named.update(Resource.objects.in_bulk(off_path))
    outdated = set(
        catalog_selectors.staleness_flags_shown()
        .filter(resource_id__in=ids)
        .values_list("resource_id", flat=True)
    )
    focus = _focus_served(user=user, resource_ids=ids)
    stages = {value: StageView(stage=value, label=label) for value, label in Stage.choices}
    for step in steps:
        stages[step.resource.stage].steps.append(
            PathStepView(
                step=step,
                state=states.get(step.resource_id),
                outdated=step.resource_id in outdated,
                focus=tuple(focus.get(step.resource_id, ())),
                covered_by=_covered_by(step.resource_id, standing_in, states, named),
            )
        )
    return PathView(
        slug=path.slug,
        title=path.title,
        description=path.description,
        stages=[stage for stage in stages.values() if stage.steps],
    )


def covered_steps(*, user: AnyUser) -> list[int]:
    """The path steps the learner's reading made needless, as the Path page shows them."""
    view = path_view(user=user)
    if view is None:
        return []
    return [s.step.resource_id for stage in view.stages for s in stage.steps if s.covered]


def _covered_by(
    resource_id: int,
    standing_in: dict[int, frozenset[int]],
    states: dict[int, LearnerState],
    named: dict[int, Resource],
) -> Resource | None:
    """The resource the learner completed that stands in for this step, if any."""
    for other in sorted(standing_in.get(resource_id, ())):
        state = states.get(other)
        if other in named and state is not None and state.state == ProgressState.COMPLETED:
            return named[other]
    return None


def superseded_by(card: dict[str, Any]) -> Resource | None:
    """The approved resource about today's way for a removed thing's card (its page leads
    with it: Katacoda's led with "Open the resource"). One query, only for such a card."""
    successor = runtime.superseded_successor(card)
    if successor is None:
        return None
    return Resource.objects.filter(pk=successor, status=Status.APPROVED).first()


@dataclass(frozen=True)
class OtherWays:
    """A path step with another way to it: its own step (whose note says for whom it is)
    and the other steps of which the learner needs only one, in path order."""

    step: PathStep
    others: list[PathStep]


def step_alternatives(
    *, resource_ids: Iterable[int], user: AnyUser | None = None
) -> dict[int, OtherWays]:
    """The other ways to these path steps (the same ``one_of``: Minikube for Docker
    Desktop), with the path steps' notes and resources, but those the learner skipped or
    completed (Minikube's card offered Docker Desktop to a learner who had just skipped it).
    No query when none of them has an alternative; else one, and one for a learner."""
    alternatives = runtime.path_alternatives()
    wanted = {i: alternatives[i] for i in resource_ids if i in alternatives}
    if not wanted:
        return {}
    others = {i for found in wanted.values() for i in found}
    steps = {
        step.resource_id: step
        for step in PathStep.objects.filter(resource_id__in={*wanted, *others}).select_related(
            "resource"
        )
    }
    states = learner_states(user=user, resource_ids=others)
    behind = {i for i, state in states.items() if state.state in FINISHED_STATES}
    found_ways = {
        resource_id: OtherWays(
            step=steps[resource_id],
            others=sorted(
                (steps[i] for i in found if i in steps and i not in behind),
                key=lambda step: step.position,
            ),
        )
        for resource_id, found in wanted.items()
        if resource_id in steps
    }
    return {resource_id: ways for resource_id, ways in found_ways.items() if ways.others}


def _focus_served(*, user: AnyUser | None, resource_ids: list[int]) -> dict[int, list[str]]:
    """The names of the learner's focus areas each of these resources serves, by name. One
    query; none for a visitor."""
    if user is None or not user.is_authenticated:
        return {}
    focus = FocusArea.objects.filter(profile__user=user)
    rows = (
        Resource.security_areas.through.objects.filter(
            resource_id__in=resource_ids, securityarea_id__in=focus.values("area_id")
        )
        .order_by("securityarea__name")
        .values_list("resource_id", "securityarea__name")
    )
    served: dict[int, list[str]] = {}
    for resource_id, name in rows:
        served.setdefault(resource_id, []).append(name)
    return served


@dataclass(frozen=True)
class AreaCoverage:
    slug: str
    name: str
    description: str
    completed: int  # read here
    available: int
    focus_weight: float | None
    known: int = 0  # marked "I know these": covered, but not read here

    @property
    def covered(self) -> int:
        return self.completed + self.known

    @property
    def percent(self) -> int:
        return round(100 * self.covered / self.available) if self.available else 0


def coverage(*, user: User) -> list[AreaCoverage]:
    """For each security area of the threat model: approved resources the learner completed
    (read here, and apart those marked as already known) against all approved resources in
    it. Four queries, whatever the catalog's size."""
    approved = catalog_selectors.approved_resources()
    through = Resource.security_areas.through.objects.filter(resource__in=approved)
    available = {
        row["securityarea_id"]: row["n"]
        for row in through.values("securityarea_id").annotate(n=Count("resource_id"))
    }
    completed = recommender_selectors.progress_list(user=user).filter(state=ProgressState.COMPLETED)

    def per_area(rows: QuerySet[Progress]) -> dict[int, int]:
        return {
            row["securityarea_id"]: row["n"]
            for row in through.filter(resource_id__in=rows.values("resource_id"))
            .values("securityarea_id")
            .annotate(n=Count("resource_id"))
        }

    # A walk-through learner who read nothing saw "6 of 7 done" after "I know these".
    read, known = per_area(completed.filter(known=False)), per_area(completed.filter(known=True))
    profile = recommender_selectors.learner_profile(user=user)
    focus = {item.area_id: item.weight for item in profile.focus.all()} if profile else {}
    return [
        AreaCoverage(
            slug=area.slug,
            name=area.name,
            description=area.description,
            completed=read.get(area.pk, 0),
            known=known.get(area.pk, 0),
            available=available.get(area.pk, 0),
            focus_weight=focus.get(area.pk),
        )
        # In the seed's order: the threat model reads from containers outwards.
        for area in SecurityArea.objects.order_by("pk")
    ]


def reading_order(name: str) -> str:
    """A name's sort key as people read it: without case and accents (é sorts as e). Python's
    own order, not the database's collation, so SQLite and PostgreSQL agree."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def browse_choices() -> dict[str, list[tuple[str, str]]]:
    """The values the browse page offers for its slug filters (tags, areas, authors), in the
    order a reader looks for them: by name, whatever the case ("etcd" among the e's, not after
    every capital) and the accents ("Jérôme" before "Justin", as in a phone book)."""
    approved = catalog_selectors.approved_resources()

    def offered(model: type[SecurityArea] | type[Tag] | type[Author]) -> list[tuple[str, str]]:
        rows = model.objects.filter(resources__in=approved).distinct().values_list("slug", "name")
        return sorted(rows, key=lambda row: (reading_order(row[1]), row[1]))

    return {"area": offered(SecurityArea), "tag": offered(Tag), "author": offered(Author)}


def queue_feed(*, user: User) -> QueueFeed | None:
    return QueueFeed.objects.filter(user=user).first()


def queue_feed_by_key(*, key: str) -> QueueFeed | None:
    return QueueFeed.objects.select_related("user").filter(key=key, user__is_active=True).first()


READING_NOW_SHOWN = 5


def _listed_progress(*, user: User) -> QuerySet[Progress]:
    """The learner's progress on resources still in the catalog: what the pages list (a
    withdrawn resource has no page to go back to; the CSV download keeps it)."""
    return recommender_selectors.progress_list(user=user).filter(resource__status=Status.APPROVED)


def reading_now(*, user: User) -> list[Resource]:
    """What the learner started and has not finished, most recently started first (the queue
    does not recommend these again; Up next lists them apart). One query."""
    rows = (
        _listed_progress(user=user)
        .filter(state=ProgressState.IN_PROGRESS)
        .order_by("-updated_at")[:READING_NOW_SHOWN]
    )
    return [row.resource for row in rows]


def step_to_read_in_parts(*, deferred: list[int], budget: int | None) -> dict[str, Any] | None:
    """The path step the queue passed over that is longer than the whole time budget, so
    that at this budget it never fits (a learner with 20 minutes a day met a 4-hour step
    that held their path back for good): Up next offers to start it and read it in parts.
    {"id", "title"}, or None. One query, only when a step waits."""
    if not deferred or not budget:
        return None
    step = (
        Resource.objects.filter(
            pk=deferred[0], status=Status.APPROVED, estimated_minutes__gt=budget
        )
        .values("id", "title")
        .first()
    )
    return dict(step) if step else None


@dataclass(frozen=True)
class ProgressCounts:
    """What Up next says of the learner's progress beside the queue."""

    saved: int  # saved for later, and in the queue when their turn comes
    put_off: int  # "Not now": out of the queue until `back`
    back: datetime | None  # when the first item put off comes back
    returned: int = 0  # put off, and back in the queue: their day came
    completed: int = 0  # read here (not "I know these"): Up next's focus tip stops at a few
    rated: int = 0  # completions with a rating
    rated_low: int = 0  # ... of 1 or 2 of 5

    @property
    def mostly_disliked(self) -> bool:
        """Most of what the learner rated (five at least) they rated 1 or 2 of 5."""
        return self.rated >= DISLIKED_AFTER_RATED and self.rated_low * 10 >= self.rated * 7


# Up next asks whether the queue misses once this many ratings are mostly low.
DISLIKED_AFTER_RATED = 5


def progress_counts(*, user: User) -> ProgressCounts:
    """What the learner saved for later, what of it is put off for now, and what came back
    from "Not now"; how much they completed, and how they rated it. One query."""
    now = timezone.now()
    planned = Q(state=ProgressState.PLANNED)
    put_off = planned & Q(later_until__gt=now)
    read = Q(state=ProgressState.COMPLETED, known=False)
    totals = _listed_progress(user=user).aggregate(
        saved=Count("pk", filter=planned & Q(later_until__isnull=True)),
        put_off=Count("pk", filter=put_off),
        back=Min("later_until", filter=put_off),
        returned=Count("pk", filter=planned & Q(later_until__lte=now)),
        completed=Count("pk", filter=read),
        rated=Count("pk", filter=read & Q(rating__isnull=False)),
        rated_low=Count("pk", filter=read & Q(rating__lte=2)),
    )
    return ProgressCounts(**totals)


# When a learner's last click is this old, Up next welcomes them back: what they did last, and
# what joined the catalog since (a walk-through's learner, back after a month, was shown the
# same page as the day before).
WELCOME_BACK_AFTER = timedelta(days=7)

# When a resource joined the catalog: its approval, or its creation when it needed none (the
# seed, a trusted feed's entries). Browse's "Recently added" orders by it.
ADDED_AT = Coalesce(F("reviewed_at"), F("created_at"))

# A resource's first place on a learning path (None off every path). Browse's "Basics first"
# orders each stage by it: by difficulty and title alone, an 8-hour tutorial came before the
# path's first step (a walk-through).
PATH_POSITION = Subquery(
    PathStep.objects.filter(resource=OuterRef("pk")).order_by("position").values("position")[:1]
)

# What the learner did last, as "the last thing you did here was …".
LAST_DONE = {
    ProgressState.COMPLETED: "mark “{title}” done",
    ProgressState.SKIPPED: "skip “{title}”",
    ProgressState.IN_PROGRESS: "start “{title}”",
    ProgressState.PLANNED: "save “{title}” for later",
}


@dataclass(frozen=True)
class WelcomeBack:
    last_at: datetime  # the learner's last click (progress)
    last_done: str  # what it was, in words: "mark “Kubernetes at GitHub” done"
    added: int  # resources that joined the catalog since


def welcome_back(*, user: User) -> WelcomeBack | None:
    """For a learner whose last click is over WELCOME_BACK_AFTER old: what it was, and how many
    resources joined the catalog since. Two queries, three or four when they are away.

    A note counts: a learner who wrote one yesterday was welcomed back to the click she had
    made three weeks before (a walk-through)."""
    last = _listed_progress(user=user).select_related("resource").order_by("-updated_at").first()
    note = (
        Note.objects.filter(user=user, resource__status=Status.APPROVED)
        .select_related("resource")
        .order_by("-updated_at")
        .first()
    )
    if note is not None and (last is None or note.updated_at > last.updated_at):
        if timezone.now() - note.updated_at < WELCOME_BACK_AFTER:
            return None
        return WelcomeBack(
            note.updated_at,
            f"write a note on “{note.resource.title}”",
            _added_since(note.updated_at),
        )
    if last is None or timezone.now() - last.updated_at < WELCOME_BACK_AFTER:
        return None
    if last.known:
        # "I know these" marks a stage's steps in one click, all completed at the same instant.
        together = _listed_progress(user=user).filter(known=True, completed_at=last.completed_at)
        count = together.count() if last.completed_at else 1
        stage = Stage(last.resource.stage).label
        done = (
            f"mark the {count} steps of “{stage}” as known"
            if count > 1
            else "mark “{title}” as known"
        )
    elif last.later_until is not None:
        done = "put “{title}” off"
    else:
        done = LAST_DONE[ProgressState(last.state)]
    return WelcomeBack(
        last.updated_at, done.format(title=last.resource.title), _added_since(last.updated_at)
    )


def _added_since(moment: datetime) -> int:
    """How many resources joined the catalog after this moment."""
    return (
        catalog_selectors.approved_resources()
        .annotate(added_at=ADDED_AT)
        .filter(added_at__gt=moment)
        .count()
    )


# A card shows this much of the learner's note on it: enough to recall what it says.
NOTE_SNIPPET_CHARS = 90


_ZWJ = "\u200d"


def _joins_previous(char: str) -> bool:
    """Whether ``char`` belongs to the character before it on screen: an accent, a
    variation selector, a zero-width joiner, a skin tone or an emoji tag."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or char in (_ZWJ, "\ufe0e", "\ufe0f")
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _character_end(text: str, end: int) -> int:
    """``end``, or the nearest index before it where a character seen on screen ends, so
    that ``text[:end]`` never splits one: a note cut mid-emoji showed half a family or a
    lone letter of a flag on its card. Plain text is cut where asked."""
    while 0 < end < len(text):
        if _joins_previous(text[end]) or text[end - 1] == _ZWJ:
            end -= 1
            continue
        # A flag is a pair of regional indicators: an odd run before ``end`` splits one.
        run = 0
        while run < end and 0x1F1E6 <= ord(text[end - 1 - run]) <= 0x1F1FF:
            run += 1
        if run % 2 and 0x1F1E6 <= ord(text[end]) <= 0x1F1FF:
            end -= 1
            continue
        break
    return end


def note_snippets(*, user: AnyUser | None, resource_ids: Iterable[int]) -> dict[int, str]:
    """The start of the learner's note on each of these resources, on one line, for their
    cards (a walk-through's learner did not see her notes where she reads). One query, which
    reads no more of a long note than the card shows."""
    if user is None or isinstance(user, AnonymousUser):
        return {}
    rows = (
        Note.objects.filter(user=user, resource_id__in=list(resource_ids))
        .annotate(start=Substr("text", 1, NOTE_SNIPPET_CHARS * 2))
        .values_list("resource_id", "start")
    )
    snippets = {}
    for resource_id, start in rows:
        # Its lines kept apart: joined by spaces, "…the map\nLine two" read as one sentence.
        line = " \u00b7 ".join(
            " ".join(part.split()) for part in start.splitlines() if part.strip()
        )
        if len(line) > NOTE_SNIPPET_CHARS:
            cut = line[: _character_end(line, NOTE_SNIPPET_CHARS - 1)]
            # At a word's end where there is one in the second half ("then e…" read badly).
            if " " in cut[NOTE_SNIPPET_CHARS // 2 :]:
                cut = cut[: cut.rindex(" ")]
            line = cut.rstrip() + "\u2026"
        snippets[resource_id] = line
    return snippets


def with_notes(items: list[dict[str, Any]], *, user: AnyUser | None) -> list[dict[str, Any]]:
    """Card items ({"card": …, …}) with the learner's note snippet as "note". One query."""
    notes = note_snippets(user=user, resource_ids=[item["card"]["id"] for item in items])
    return [{**item, "note": notes.get(item["card"]["id"])} for item in items]


def cards_with_states(cards: list[dict[str, Any]], *, user: AnyUser | None) -> list[dict[str, Any]]:
    """Pair each card with the learner's state on it: {"card": …, "state": …}."""
    states = learner_states(user=user, resource_ids=[card["id"] for card in cards])
    return [{"card": card, "state": states.get(card["id"])} for card in cards]


# What the history page can show: everything behind the learner, or one kind of it.
HISTORY_SHOWS = {
    "all": Q(),
    # Read here: what "I know these" marked is listed apart (it would bury what was read).
    "completed": Q(state=ProgressState.COMPLETED, known=False),
    "unrated": Q(state=ProgressState.COMPLETED, known=False, rating__isnull=True),
    "known": Q(state=ProgressState.COMPLETED, known=True),
    "skipped": Q(state=ProgressState.SKIPPED),
    "saved": Q(state=ProgressState.PLANNED),
    # Up next lists only the latest few started items; History lists them all.
    "reading": Q(state=ProgressState.IN_PROGRESS),
}


@dataclass(frozen=True)
class HistoryTotals:
    completed: int  # read here: the known ones ("I know these") are counted apart
    skipped: int
    saved: int
    reading: int
    rated: int
    minutes_read: int
    known: int = 0
    returned: int = 0  # put off with "Not now" and back: not counted as saved (Up next neither)
    # Put off with "Not now" and not back yet: not saved by choice either. A walk-through
    # read "2 saved for later" having saved one.
    put_off: int = 0

    @property
    def anything(self) -> bool:
        """Whether History has any item to list."""
        counts = (self.completed, self.known, self.skipped, self.saved, self.reading)
        return any((*counts, self.put_off, self.returned))

    @property
    def reading_time(self) -> str:
        """The completions' estimated reading time, as a person would say it."""
        return spoken_duration(self.minutes_read)


def spoken_duration(minutes: int) -> str:
    """'45 min', '8 h', '1 h 15 min': how every page says a length, so the Up next total, the
    cards and History's totals read alike."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def spoken_day(moment: datetime, style: str = "short") -> str:
    """A day as the pages say it, in the learner's time zone: "Tue 8 Dec" (short), "Tuesday 8
    December" (long) or "8 Dec" (date), with its year when that is not this year ("Not now" for
    a month in December said "Wed 6 Jan", and a day last year "Sunday 30 November", whose
    weekday was this year's: a walk-through)."""
    local = timezone.localtime(moment)
    if style == "past":
        return _past_day(local)
    if style == "long":
        text = f"{local:%A} {local.day} {local:%B}"
    elif style == "date":
        text = f"{local.day} {local:%b}"
    else:
        text = f"{local:%a} {local.day} {local:%b}"
    return text if local.year == timezone.localdate().year else f"{text} {local.year}"


def _past_day(local: datetime) -> str:
    """A day gone by, as one says it: "today", "yesterday", "on Tuesday" within the week,
    else "on 8 Dec" ("on 8 Dec 2025" another year). History said "6 Dec 2026" of today."""
    days = (timezone.localdate() - local.date()).days
    if days == 0:
        return "today"
    if days == 1:
        return "yesterday"
    if 1 < days < 7:
        return f"on {local:%A}"
    return f"on {spoken_day(local, 'date')}"


def history(*, user: User, show: str = "all") -> QuerySet[Progress]:
    """What the learner completed, skipped, saved or started (``show`` picks which), most
    recent first (resources still in the catalog: a withdrawn one has no page to go back to).

    Each row's ``listed_at`` is the date the page shows and orders by: when it was completed,
    for a completed item (rating it again later neither moves it nor changes that date), else
    its last change. "All" lists steps marked as already known after the rest: one click on
    "I know these" marks a stage at once, and its 24 rows filled the first page, above the
    one thing a walk-through's learner had read.
    """
    listed_at = Case(
        When(state=ProgressState.COMPLETED, completed_at__isnull=False, then=F("completed_at")),
        default=F("updated_at"),
    )
    order = ("known", "-listed_at", "-pk") if show == "all" else ("-listed_at", "-pk")
    return (
        _listed_progress(user=user)
        .filter(HISTORY_SHOWS[show])
        .annotate(listed_at=listed_at)
        .order_by(*order)
    )


@dataclass(frozen=True)
class FinishedCounts:
    """What a learner with nothing left to recommend can still do here (Up next)."""

    unrated: int  # completions read here without a rating
    skipped: int
    notes: int


def finished_counts(*, user: User) -> FinishedCounts:
    """Counts for Up next's "nothing left" panel. Two queries."""
    totals = history_totals(user=user)
    return FinishedCounts(
        unrated=totals.completed - totals.rated,
        skipped=totals.skipped,
        notes=Note.objects.filter(user=user).count(),
    )


def history_totals(*, user: User) -> HistoryTotals:
    """Counts for the history page's summary line. One query."""
    known = Q(state=ProgressState.COMPLETED, known=True)
    done = Q(state=ProgressState.COMPLETED, known=False)
    now = timezone.now()
    returned, put_off = Q(later_until__lte=now), Q(later_until__gt=now)
    totals = _listed_progress(user=user).aggregate(
        completed=Count("pk", filter=done),
        known_count=Count("pk", filter=known),  # not "known": that is the field's name
        skipped=Count("pk", filter=Q(state=ProgressState.SKIPPED)),
        rated=Count("pk", filter=done & Q(rating__isnull=False)),
        minutes_read=Sum("resource__estimated_minutes", filter=done),
        saved=Count("pk", filter=Q(state=ProgressState.PLANNED, later_until__isnull=True)),
        put_off=Count("pk", filter=Q(state=ProgressState.PLANNED) & put_off),
        returned=Count("pk", filter=Q(state=ProgressState.PLANNED) & returned),
        reading=Count("pk", filter=Q(state=ProgressState.IN_PROGRESS)),
    )
    return HistoryTotals(
        completed=totals["completed"],
        skipped=totals["skipped"],
        saved=totals["saved"],
        reading=totals["reading"],
        rated=totals["rated"],
        minutes_read=totals["minutes_read"] or 0,
        known=totals["known_count"],
        returned=totals["returned"],
        put_off=totals["put_off"],
    )
