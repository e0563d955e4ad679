"""Full-text search over the catalog, in the database's own engine.

PostgreSQL: `catalog_resource.search_vector`, a generated (always current) tsvector column —
the title weighted A above the summary's B, English stemming — with a GIN index, made by
migration `resource_read_indexes` and deliberately not a model field: every Resource query
would otherwise fetch the vector, and the recommender reads whole catalogs. Only approved
resources have one (migration `search_vector_approved_only`): the poller files feed entries
as pending resources by the hundred, and their vectors were 40% of the database's work per
polled feed. A curator's search, which may include pending and rejected resources
(``approved_only=False``), computes the vector of a resource that has none (VECTOR_SQL).

SQLite (development, tests; the only other database the project runs on): an FTS5 index,
`catalog_resource_fts` (porter stemming), kept current by triggers on catalog_resource. A
later migration that rebuilds that table on SQLite drops its triggers, so
`sqlite_index_ensure` runs after every `migrate` (see catalog.apps) to recreate them and
rebuild the index.

Tags, security areas and authors are matched by name (and slug) at query time rather than
copied into the vector: those tables are small, and a copy would go stale whenever any
writer (the poller's bulk statements, the seed loader) relabels a resource. A security area
also matches by its description, the curated definition of what it covers: "apparmor" finds
what is labelled Container hardening, whose description names AppArmor.

A few abbreviations learners type stand for words the catalog spells out (SYNONYMS): "k8s"
matches as "k8s" or "kubernetes", "psp" as "psp" or "podsecuritypolicy", "psa" as "psa" or
"pod security admission".

A query is split into words (at most MAX_TERMS, each at most MAX_TERM_LENGTH characters);
a resource matches when every word is in its title, its summary or one of its labels.
Operators and punctuation are never passed to the engine, so no input is a syntax error.

A word typed as the start of others also finds them (`is_prefix_term`): "config" finds
"configuration", "network" "NetworkPolicy". Only a word of at least MIN_PREFIX_LENGTH letters
without an inflected ending (or a final "y") is one: "using" (which English stemming cuts to
"use") would otherwise find "user". A prefix match adds a quarter (PREFIX_RANK) of what a
whole word adds to the rank.

Kubernetes kinds and admission plugins written as one word (KIND_PHRASES: "rolebinding",
"noderestriction") also match where their words are, and words that spell one ("role
binding") also match it as one word. Stop words neither match nor exclude (STOP_WORDS, as
PostgreSQL's English configuration does); level words ("beginner") rank that difficulty first
without being required (LEVEL_WORDS).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db import connection, connections
from django.db.models import Expression, FloatField, Q, QuerySet, Value
from django.db.models.expressions import Case, When
from django.db.models.fields import BooleanField

from catalog.models import Author, Resource, SecurityArea, Tag

CONFIG = "english"
MAX_TERMS = 8
MAX_TERM_LENGTH = 60
FTS_TABLE = "catalog_resource_fts"
# A label match (tag, area, author) adds this to a resource's rank: curated evidence counts
# about as much as a word in the summary, less than one in the title.
LABEL_BONUS = {"postgresql": 0.2, "sqlite": 1.0}
# SQLite: what a match in each column adds to the rank, and bm25's weights per column.
SQLITE_COLUMN_RANK = {"title": 3.0, "summary": 1.5}
FTS_WEIGHTS = (4.0, 1.0)
# Shorter words would find too much as prefixes ("pod" finds "podcast", "read" "ready",
# "name" "namespace"); they match whole.
MIN_PREFIX_LENGTH = 5
# What a prefix match adds to a resource's rank, against a whole word's.
PREFIX_RANK = 0.25

_WORD = re.compile(r"\w+")

# A search word and the words it also stands for. An alternative of several words matches as
# a phrase (FTS5's quoted string; PostgreSQL's phraseto_tsquery).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "k8s": ("kubernetes",),
    "psa": ("pod security admission",),
    "pss": ("pod security standards", "pod security standard"),
    "mtls": ("mutual tls", "mutually authenticated tls"),
    "psp": ("podsecuritypolicy", "podsecuritypolicies"),
    "psps": ("podsecuritypolicy", "podsecuritypolicies"),
    "netpol": ("networkpolicy", "networkpolicies"),
    "netpols": ("networkpolicy", "networkpolicies"),
    "sa": ("serviceaccount", "serviceaccounts"),
    "authn": ("authentication", "authenticate"),
    "authz": ("authorization", "authorize"),
    # A walk-through's "cert" and "certificates" found nothing beside resources tagged PKI/TLS.
    "cert": ("certificate", "tls", "pki"),
    "certs": ("certificate", "tls", "pki"),
    "certificate": ("tls", "pki"),
    "certificates": ("tls", "pki"),
}

# Kubernetes object kinds, which learners type as kubectl and manifests spell them, in one
# word ("clusterrolebinding" found nothing where "cluster role binding" found five): each, and
# its plural, also matches where all its words are ("roles and their bindings"), and a
# search's words that spell one ("role binding") also match it as one word (`_word_groups`).
KINDS = (
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "CronJob",
    "CustomResourceDefinition",
    "DaemonSet",
    "LimitRange",
    "MutatingWebhookConfiguration",
    "NetworkPolicy",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "PodDisruptionBudget",
    "PodSecurityPolicy",
    "ReplicaSet",
    "ResourceQuota",
    "RoleBinding",
    "RuntimeClass",
    "SecurityContext",
    "ServiceAccount",
    "StatefulSet",
    "StorageClass",
    "ValidatingWebhookConfiguration",
)


# Admission plugins, named as one word the same way ("node restriction" missed "Admission
# Controllers, including NodeRestriction").
ADMISSION_PLUGINS = (
    "AlwaysPullImages",
    "EventRateLimit",
    "ImagePolicyWebhook",
    "NodeRestriction",
    "PodSecurity",
)


def _plural(word: str) -> str:
    return word[:-1] + "ies" if word.endswith("y") else word + "s"


def _kind_phrases() -> dict[str, str]:
    """Each kind in one word, singular and plural, with its words ("rolebindings": "role
    bindings")."""
    phrases: dict[str, str] = {}
    for kind in (*KINDS, *ADMISSION_PLUGINS):
        words = [word.lower() for word in re.findall(r"[A-Z][a-z]*", kind)]
        phrases[kind.lower()] = " ".join(words)
        phrases[_plural(kind.lower())] = " ".join([*words[:-1], _plural(words[-1])])
    return phrases


# Other words learners write as one that the catalog writes as two, or with a hyphen.
# ("kube-apiserver" is the words "kube" and "apiserver", which spell "kubeapiserver").
COMPOUNDS = {
    "apiserver": "api server",
    "kubeapiserver": "api server",
    "multitenancy": "multi tenancy",
}
KIND_PHRASES = {**_kind_phrases(), **COMPOUNDS}

# PostgreSQL's English stop words (its tsearch_data/english.stop): they neither match nor
# exclude there, and now on SQLite too, whose FTS5 index keeps them: "how to secure etcd"
# found one resource where "secure etcd" found two. A search of stop words alone keeps them.
_STOP_WORDS_TEXT = """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Words for a resource's difficulty: they rank resources of that difficulty first without
# being required ("beginner networking": networking, beginners' readings first; a
# walk-through's "beginner" found nothing, and as a required word "kubernetes security best
# practices for beginners" found nothing). Alone, they find that difficulty.
LEVEL_WORDS = {"beginner": 1, "beginners": 1, "intermediate": 2, "advanced": 3}
LEVEL_BONUS = 0.5


def search_terms(text: str) -> list[str]:
    """The words of a search, lower-cased and capped; [] when it has none. Compatibility
    forms are folded first (NFKC): "RBAC" in full-width letters (U+FF21 on), as a Japanese or
    Chinese input method types it, is "rbac", and the ligature U+FB01 is "fi"."""
    limit = MAX_TERMS * (MAX_TERM_LENGTH + 1) * 2
    text = text.replace("\x00", " ")
    if len(text) > limit:
        # Cut at the last space before the limit: a word cut in two ("rbac rbac … r") was
        # required too, and a long text found nothing.
        cut = text[:limit]
        text = cut.rsplit(None, 1)[0] if " " in cut.strip() else cut
    words = _WORD.findall(unicodedata.normalize("NFKC", text))
    return list(dict.fromkeys(word.lower()[:MAX_TERM_LENGTH] for word in words))[:MAX_TERMS]


def required_terms(terms: list[str]) -> list[str]:
    """The words a result must have: the search's words but its stop words and level words,
    unless it has nothing else (then its level words, else its stop words)."""
    words = [term for term in terms if term not in STOP_WORDS]
    return [term for term in words if term not in LEVEL_WORDS] or words or terms


class _Condition(Expression):
    """A boolean SQL fragment over the outer query's catalog_resource row."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, template: str, params: list[Any]) -> None:
        super().__init__()
        self.template, self.params = template, params

    def _row(self, compiler: Any) -> str:
        # The outer query's alias for catalog_resource (it is the base table).
        alias = compiler.query.get_initial_alias()
        return compiler.quote_name_unless_alias(alias)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        return self.template.format(row=self._row(compiler)), tuple(self.params)


class _Number(_Condition):
    output_field = FloatField()  # type: ignore[assignment]
    conditional = False


# The stored vector's expression (migration `search_vector_approved_only`), over the outer
# query's row: what a search matches in a resource without a stored vector.
VECTOR_SQL = (
    f"setweight(to_tsvector('{CONFIG}'::regconfig, coalesce({{row}}.title, '')), 'A') || "
    f"setweight(to_tsvector('{CONFIG}'::regconfig, coalesce({{row}}.summary, '')), 'B')"
)


def _vector(approved_only: bool) -> str:
    # Only approved resources have a stored vector. A search that may find others computes
    # theirs: no index serves it, but only curators make such searches.
    if approved_only:
        return "{row}.search_vector"
    return f"coalesce({{row}}.search_vector, {VECTOR_SQL})"


def _tsquery(term_sql: str = "%s") -> str:
    # A phrase query: for one word (every search term) the same as plainto_tsquery; for a
    # synonym of several words ("pod security admission"), the words in that order.
    return f"phraseto_tsquery('{CONFIG}'::regconfig, {term_sql})"


def is_prefix_term(term: str) -> bool:
    """Whether a search word also matches the words it starts: long enough, letters only,
    and not ending as an inflected word does ("-s", "-ing", "-ed", "-ion"…; "-ss" is no
    plural) or in "y": "config", "network" and "ingress" are prefixes, "using", "policies",
    "k8s" and "trivy" are not. An inflected word already finds its other forms by stemming;
    stemming makes a final "y" "i" ("trivy" is "trivi", which started "non-trivial").
    Abbreviations with synonyms match as they are."""
    inflected = not term.endswith("ss") and term.endswith((*_ENDINGS, "y"))
    return (
        len(term) >= MIN_PREFIX_LENGTH and term.isalpha() and term not in SYNONYMS and not inflected
    )


def _term_tsquery(term: str) -> tuple[str, list[str]]:
    """PostgreSQL: the tsquery one search word (or synonym) matches, with its parameters.
    A prefix word is stemmed first ("secure" is 'secur':*, finding "security")."""
    if is_prefix_term(term):
        return f"to_tsquery('{CONFIG}'::regconfig, %s)", [_pg_lexeme(term) + ":*"]
    return _tsquery(), [term]


_LABELS = (("tags", Tag), ("security_areas", SecurityArea), ("authors", Author))


def _labelled_sql(vendor: str, tsquery: str = "") -> str:
    """Resource ids labelled with a tag, area or author matching one search term (on
    PostgreSQL, ``tsquery``: the term's query SQL, by default its phrase query)."""
    parts = []
    for field, model in _LABELS:
        through = Resource._meta.get_field(field).remote_field.through  # type: ignore[union-attr]
        column = through._meta.get_field(model._meta.model_name).column
        described = model is SecurityArea
        if vendor == "postgresql":
            # "seccomp/AppArmor/SELinux" would be one file-path token: slashes become spaces.
            text = "name || ' ' || replace(slug, '-', ' ')"
            if described:
                text += " || ' ' || translate(description, '/', ' ')"
            match = f"to_tsvector('{CONFIG}'::regconfig, {text}) @@ {tsquery or _tsquery()}"
        else:
            # Small tables: a match at the start of a word of the name, slug (or an area's
            # description) is cheap and good enough; a short word must be a whole word ("go"
            # found Diogo's writing, "sa" the area whose description says "safely").
            match = (
                f"(instr({_sqlite_words('name')}, %s) > 0 OR instr({_sqlite_words('slug')}, %s) > 0"
            )
            match += f" OR instr({_sqlite_words('description')}, %s) > 0)" if described else ")"
        parts.append(
            f"SELECT resource_id FROM {through._meta.db_table} WHERE {column} IN "
            f"(SELECT id FROM {model._meta.db_table} WHERE {match})"
        )
    return " UNION ALL ".join(parts)


def _sqlite_words(column: str) -> str:
    # The column's text lower-cased, its punctuation spaces, with a space at either end.
    text = f"lower({column})"
    for mark in "/-,.():":
        text = f"replace({text}, '{mark}', ' ')"
    return f"(' ' || {text} || ' ')"


def _label_params(vendor: str, term: str) -> list[str]:
    # One query's parameters per label table on PostgreSQL; on SQLite two (name, slug), and
    # a third for the areas' description: the start of a word, or a whole short word.
    if vendor == "postgresql":
        return _term_tsquery(term)[1] * len(_LABELS)
    *first, last = term.split()
    words = " " + " ".join([*first, substring_stem(last)])
    if len(term) < _MIN_STEM:  # the start of a word stands in for stemming from four letters
        words += " "
    return [words] * sum(3 if model is SecurityArea else 2 for _, model in _LABELS)


# Endings cut from a search word before SQLite's substring match on label names, longest
# first: "policies" finds the area "Network policy" and "encryption" the one whose
# description says "encrypted", as PostgreSQL's English stemming finds them.
_ENDINGS = ("ations", "ation", "ions", "ion", "ies", "ing", "ed", "es", "s")
_MIN_STEM = 4


def substring_stem(term: str) -> str:
    """The start of ``term`` that its other forms share, for a substring match (SQLite's
    labels). Short words stay whole: "pods" is "pod", but "ssh" and "tls" are left as they
    are: a stem keeps at least four letters, three when only a plural "s" is cut."""
    if term.endswith("ss"):
        return term  # "access", not "acces"
    for ending in _ENDINGS:
        shortest = 3 if ending == "s" else _MIN_STEM  # "pods" is "pod"
        if term.endswith(ending) and len(term) - len(ending) >= shortest:
            return term[: -len(ending)]
    return term


def _fts_phrase(terms: list[str], joiner: str, *, prefixes: bool = True) -> str:
    # Each word quoted as an FTS5 string: the engine tokenises (and stems) it, and no
    # character of it can act as an operator. Words are \w+, so they hold no quote. A
    # prefix word is a prefix phrase ("config" *) unless ``prefixes`` is off.
    return f" {joiner} ".join(_fts_word(term, prefixes) for term in terms)


def _fts_word(term: str, prefixes: bool) -> str:
    if prefixes and is_prefix_term(term):
        return _fts_prefix(term)
    if prefixes and term.endswith("y") and len(term) > MIN_PREFIX_LENGTH and term.isalpha():
        # Porter stems the typed "deploy" "deploi" but "deployment" "deploy" (PostgreSQL's
        # stemmer does not), so a walk-through's "deploy" missed both deployment guides.
        return f'("{term}" OR "{term[:-1]}" *)'
    return f'"{term}"'


def _fts_prefix(term: str) -> str:
    return f'"{term}" *'


def _fts_only_prefix(terms: list[str]) -> str:
    # The prefix words, as prefixes: what ranks a match that is only a prefix one.
    return " OR ".join(_fts_prefix(term) for term in terms if is_prefix_term(term))


def _word_condition(vendor: str, term: str, approved_only: bool) -> Q:
    """A resource matches the search word, a word it stands for (SYNONYMS), or, for a kind
    in one word, all of the kind's words (KIND_PHRASES)."""
    condition = Q(_term_condition(vendor, term, approved_only))
    for synonym in SYNONYMS.get(term, ()):
        if synonym in KIND_PHRASES:  # "netpol": "networkpolicy", or "network" and "policy"
            condition |= _word_condition(vendor, synonym, approved_only)
        else:
            condition |= Q(_term_condition(vendor, synonym, approved_only))
    if term in KIND_PHRASES:
        every = Q()
        for part in KIND_PHRASES[term].split():
            every &= Q(_term_condition(vendor, part, approved_only))
        condition |= every
    if term in LEVEL_WORDS:
        condition |= Q(difficulty=LEVEL_WORDS[term])
    return condition


def _stands_for(term: str) -> tuple[list[str], list[str]]:
    """What ranks a match of a search word: the word, the words it stands for and a kind's
    words as a phrase; and, for less, a kind's words apart. At full weight, "psp" ranked a
    page on network policies, which says "pod", "security" and "policy" often, above the
    one on PodSecurityPolicy."""
    words, parts = [term], []
    for word in (term, *SYNONYMS.get(term, ())):
        words += SYNONYMS.get(word, ())
        if word in KIND_PHRASES:
            words.append(KIND_PHRASES[word])
            parts += KIND_PHRASES[word].split()
    return list(dict.fromkeys(words)), list(dict.fromkeys(parts))


def _term_condition(vendor: str, term: str, approved_only: bool) -> _Condition:
    if vendor == "postgresql":
        # A stop word ("to", "the") has no lexeme: it neither matches nor excludes. The
        # planner folds the CASE away for a constant, so the GIN index stays usable, and the
        # labels' ids come as an array (an init plan) so both sides can be bitmap scans.
        tsquery, params = _term_tsquery(term)
        return _Condition(
            f"(CASE WHEN numnode({tsquery}) = 0 THEN TRUE "
            f"ELSE {_vector(approved_only)} @@ {tsquery} END "
            f"OR {{row}}.id = ANY(ARRAY({_labelled_sql(vendor, tsquery)})))",
            [*params, *params, *_label_params(vendor, term)],
        )
    labelled = _labelled_sql(vendor)
    return _Condition(
        f"({{row}}.id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s) "
        f"OR {{row}}.id IN ({labelled}))",
        [_fts_phrase([term], "AND"), *_label_params(vendor, term)],
    )


def _text_rank(vendor: str, terms: list[str], approved_only: bool) -> _Number:
    if vendor == "postgresql":
        # Each word the vector matches adds its rank (a word only in a label still ranks); a
        # prefix match adds a quarter of its rank, so a whole word in the summary ranks above
        # a prefix in the title ("data": "Datacenter orchestration" came second). Word by
        # word, and only where it matches: ts_rank of one query ORing them all counted the
        # words of a phrase ("pod security policy") where they were apart, and ranked a page
        # on network policies above the one on PodSecurityPolicy.
        vector, ranks, params = _vector(approved_only), [], []
        tsquery = f"to_tsquery('{CONFIG}'::regconfig, %s)"
        rank = f"(CASE WHEN {vector} @@ {tsquery} THEN ts_rank({vector}, {tsquery}) ELSE 0 END)"
        for term in terms:
            ranks.append(rank)
            params += [_pg_lexeme(term)] * 2
            if is_prefix_term(term):
                ranks.append(f"{PREFIX_RANK} * {rank}")
                params += [f"{_pg_lexeme(term)}:*"] * 2
        return _Number(f"({' + '.join(ranks)})", params)
    # bm25's scale depends on the corpus (on a small one every score is near 0), so which
    # column matched decides the rank and bm25 (negated: higher is better) only orders
    # within that, squashed into [0, 1), of whole words only. A prefix match in a column adds
    # a quarter of a whole word's, as on PostgreSQL.
    whole_words = _fts_phrase(terms, "OR", prefixes=False)
    prefixes = _fts_only_prefix(terms)
    match = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
    weights = ", ".join(str(weight) for weight in FTS_WEIGHTS)
    columns, params = [], []
    for column, weight in SQLITE_COLUMN_RANK.items():
        for phrase, share in ((whole_words, 1.0), (prefixes, PREFIX_RANK)):
            if phrase:
                columns.append(
                    f"(CASE WHEN {{row}}.id IN ({match}) THEN {weight * share} ELSE 0 END)"
                )
                params.append(f"{column} : ({phrase})")
    return _Number(
        f"({' + '.join(columns)}"
        f" + COALESCE((SELECT -bm25({FTS_TABLE}, {weights}) / (1 - bm25({FTS_TABLE}, {weights}))"
        f" FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid = {{row}}.id), 0))",
        [*params, whole_words],
    )


def _pg_lexeme(term: str) -> str:
    # to_tsquery syntax for one \w+ word: quoted, so it is always a single operand.
    return "'" + term.replace("'", "''") + "'"


def _word_groups(terms: list[str]) -> list[tuple[str, ...]]:
    """The search's words in order, a run of two or three that spells a kind in one word
    (KIND_PHRASES: "role binding", "network policies") grouped, every other word alone."""
    groups: list[tuple[str, ...]] = []
    start = 0
    while start < len(terms):
        for size in (3, 2, 1):
            run = tuple(terms[start : start + size])
            if size == 1 or (len(run) == size and "".join(run) in KIND_PHRASES):
                groups.append(run)
                start += size
                break
    return groups


def resource_search(
    queryset: QuerySet[Resource], text: str, *, approved_only: bool = True
) -> QuerySet[Resource]:
    """Resources of `queryset` matching the words of `text`, annotated with `search_rank`.

    Higher `search_rank` is a better match (title above summary above label only). A text
    with no words matches nothing. The queryset is not ordered here: callers order by
    `-search_rank` unless the client asked for another order.

    ``approved_only=False`` when the queryset may hold resources that are not approved (a
    curator's): on PostgreSQL, words in their title and summary are matched too. Otherwise
    only their labels are.
    """
    typed = search_terms(text)
    terms = required_terms(typed)
    if not terms:
        return queryset.none().annotate(search_rank=Value(0.0, output_field=FloatField()))
    vendor = connection.vendor
    matches = Q()
    # Words that spell a kind ("pod security policy") rank as the kind typed in one word:
    # its words apart at half weight.
    ranked_terms = []
    for group in _word_groups(terms):
        word = "".join(group)
        ranked_terms.append(word)
        if len(group) == 1:
            matches &= _word_condition(vendor, word, approved_only)
            continue
        # Those words, or the kind as one word ("RoleBinding").
        each = Q()
        for part in group:
            each &= _word_condition(vendor, part, approved_only)
        matches &= each | _word_condition(vendor, word, approved_only)
    # The rank counts the words a term stands for as the term itself.
    ranked = [_stands_for(term) for term in ranked_terms]
    words = list(dict.fromkeys(word for term_words, _ in ranked for word in term_words))
    parts = list(dict.fromkeys(part for _, term_parts in ranked for part in term_parts))
    labelled = [
        _labelled_sql(vendor, _term_tsquery(word)[0] if vendor == "postgresql" else "")
        for word in words
    ]
    any_label = Q(
        _Condition(
            f"({{row}}.id IN ({' UNION ALL '.join(labelled)}))",
            [param for word in words for param in _label_params(vendor, word)],
        )
    )
    bonus = Case(
        When(any_label, then=Value(LABEL_BONUS.get(vendor, 1.0))),
        default=Value(0.0),
        output_field=FloatField(),
    )
    rank = _text_rank(vendor, words, approved_only) + bonus
    if parts:  # their mean, at half weight: one word of a kind's own outranks them
        rank = rank + _text_rank(vendor, parts, approved_only) * Value(0.5 / len(parts))
    levels = {LEVEL_WORDS[term] for term in typed if term in LEVEL_WORDS}
    if levels:
        rank = rank + Case(
            When(difficulty__in=levels, then=Value(LEVEL_BONUS)),
            default=Value(0.0),
            output_field=FloatField(),
        )
    return queryset.filter(matches).annotate(search_rank=rank)


# --- SQLite's FTS5 index -------------------------------------------------------------------------

_SQLITE_TRIGGERS = {
    f"{FTS_TABLE}_insert": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON catalog_resource BEGIN
            INSERT INTO {FTS_TABLE}(rowid, title, summary)
            VALUES (new.id, new.title, new.summary);
        END""",
    f"{FTS_TABLE}_delete": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON catalog_resource BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, summary)
            VALUES ('delete', old.id, old.title, old.summary);
        END""",
    f"{FTS_TABLE}_update": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update
        AFTER UPDATE OF title, summary ON catalog_resource BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, summary)
            VALUES ('delete', old.id, old.title, old.summary);
            INSERT INTO {FTS_TABLE}(rowid, title, summary)
            VALUES (new.id, new.title, new.summary);
        END""",
}


def sqlite_index_ensure(schema_connection: Any) -> bool:
    """Create the FTS5 index and its triggers where missing; rebuild it if any was missing.

    Returns whether anything was (re)created. A no-op on other databases.
    """
    if schema_connection.vendor != "sqlite":
        return False
    with schema_connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name LIKE %s",
            [f"{FTS_TABLE}%"],
        )
        present = {row[0] for row in cursor.fetchall()}
        wanted = {FTS_TABLE, *_SQLITE_TRIGGERS}
        if wanted <= present:
            return False
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "title, summary, content='catalog_resource', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        for statement in _SQLITE_TRIGGERS.values():
            cursor.execute(statement)
        # Rows written while a trigger was missing are indexed again from the table.
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    return True


def index_ensure_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver (connected in catalog.apps): SQLite's index, after any migrate."""
    schema_connection = connections[using]
    if "catalog_resource" in schema_connection.introspection.table_names():
        sqlite_index_ensure(schema_connection)
