"""Catalog search: the database's full-text engine (PostgreSQL tsvector, SQLite FTS5)."""

from __future__ import annotations

import pytest
from django.db import connection

from catalog import search, services
from catalog.models import Resource
from tests.factories import AuthorFactory, ResourceFactory, SecurityAreaFactory, TagFactory

pytestmark = pytest.mark.django_db

LIST = "/api/resources/"
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's text search configuration"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")


def found(client, text: str, **params) -> list[str]:
    response = client.get(LIST, {"search": text, **params})
    assert response.status_code == 200, response.content[:300]
    return [row["title"] for row in response.json()["results"]]


def test_search_ranks_a_title_match_above_a_summary_match(api):
    ResourceFactory(title="Admission webhooks", summary="Mentions etcd once.")
    ResourceFactory(title="Backing up etcd", summary="A guide.")
    ResourceFactory(title="Unrelated", summary="Pods and services.")
    assert found(api, "etcd") == ["Backing up etcd", "Admission webhooks"]


def test_search_ranks_by_match_even_against_the_catalog_order(api):
    # Title order would put "A…" first; the better match (in the title) wins.
    ResourceFactory(title="A tour of the API", summary="Touches on audit logging.")
    ResourceFactory(title="Zero to audit logging", summary="Audit everything.")
    assert found(api, "audit") == ["Zero to audit logging", "A tour of the API"]


def test_an_explicit_ordering_overrides_the_rank(api):
    ResourceFactory(title="Zero to audit logging", summary="Audit everything.")
    ResourceFactory(title="A tour of the API", summary="Touches on audit logging.")
    assert found(api, "audit", ordering="title") == ["A tour of the API", "Zero to audit logging"]


def test_search_finds_plurals_by_their_singular_and_back(api):
    ResourceFactory(title="Writing a network policy", summary="One namespace.")
    ResourceFactory(title="Pod security policies, retired", summary="History.")
    assert sorted(found(api, "policies")) == [
        "Pod security policies, retired",
        "Writing a network policy",
    ]
    assert sorted(found(api, "policy")) == sorted(found(api, "policies"))


def test_a_plural_or_another_form_of_a_word_finds_the_labels_it_names(api):
    # A walk-through found 5 resources for "network policy" and 1 for "network policies";
    # "etcd encryption" missed the Secrets area, whose description says "encrypted".
    netpol = SecurityAreaFactory(slug="network-policy", name="Network policy")
    secrets = SecurityAreaFactory(
        slug="secrets", name="Secrets", description="Secrets encrypted at rest in etcd."
    )
    ResourceFactory(title="Isolating tenants", summary="Firewalls.", security_areas=[netpol])
    ResourceFactory(title="Keeping keys safe", summary="Vaults.", security_areas=[secrets])
    assert found(api, "network policies") == found(api, "network policy") == ["Isolating tenants"]
    assert found(api, "encryption") == ["Keeping keys safe"]


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("policies", "polic"),
        ("encryption", "encrypt"),
        ("pods", "pod"),
        ("access", "access"),
        ("tls", "tls"),
        ("rbac", "rbac"),
        ("namespaces", "namespac"),
        ("hardening", "harden"),
    ],
)
def test_a_substring_stem_keeps_what_the_forms_of_a_word_share(word, stem):
    assert search.substring_stem(word) == stem


def test_a_word_finds_the_longer_words_it_starts(api):
    # A practitioner searched "config" and was offered "Did you mean: confusing?" beside a
    # catalog that says "encryption configuration".
    ResourceFactory(title="Encrypting secrets at rest", summary="An encryption configuration.")
    ResourceFactory(title="Writing a NetworkPolicy", summary="Default deny.")
    ResourceFactory(title="Other", summary="Pods and services.")
    assert found(api, "config") == ["Encrypting secrets at rest"]
    assert found(api, "network") == ["Writing a NetworkPolicy"]
    assert found(api, "networkpol default") == ["Writing a NetworkPolicy"]


def test_a_prefix_finds_labels_it_starts_too(api):
    ResourceFactory(title="Tagged", tags=[TagFactory(slug="gatekeeper", name="Gatekeeper")])
    ResourceFactory(title="Other")
    assert found(api, "gatek") == ["Tagged"]


def test_a_whole_word_match_ranks_above_a_prefix_match(api):
    ResourceFactory(title="Token reviews", summary="Kinds of checks.")
    ResourceFactory(title="TokenRequest explained", summary="Kinds of checks.")
    assert found(api, "token") == ["Token reviews", "TokenRequest explained"]


def test_short_and_inflected_words_match_only_whole(api):
    # "pod" as a prefix would find podcasts; "using", stemmed to "use", would find "user".
    ResourceFactory(title="A podcast about clusters", summary="Episodes.")
    ResourceFactory(title="User namespaces", summary="Remapping ids.")
    assert found(api, "pod") == []
    assert found(api, "using") == []


def test_a_kind_typed_in_one_word_finds_where_its_words_are(api):
    # A practitioner's "clusterrolebinding" found nothing; "cluster role binding" found five.
    ResourceFactory(title="RBAC explained", summary="Roles, ClusterRoles and their bindings.")
    ResourceFactory(title="Accounts for pods", summary="Each service has an account.")
    ResourceFactory(title="Other", summary="Pods and services.")
    assert found(api, "clusterrolebinding") == ["RBAC explained"]
    assert found(api, "rolebindings") == ["RBAC explained"]
    assert found(api, "serviceaccount") == ["Accounts for pods"]


def test_words_that_spell_a_kind_find_it_written_as_one_word(api):
    ResourceFactory(title="Granting access", summary="Write a RoleBinding in the namespace.")
    ResourceFactory(title="Other", summary="Roles only.")
    assert found(api, "role binding") == ["Granting access"]
    assert found(api, "role bindings") == ["Granting access"]


def test_a_kind_ranks_what_names_it_above_what_only_uses_its_words(api):
    ResourceFactory(title="Network policies", summary="Pod security starts with a policy per pod.")
    ResourceFactory(title="PodSecurityPolicy is gone", summary="What replaced it.")
    expected = ["PodSecurityPolicy is gone", "Network policies"]
    assert found(api, "psp") == found(api, "pod security policy") == expected


def test_a_kind_typed_in_one_word_is_not_corrected_when_it_finds_nothing(client):
    ResourceFactory(title="Role models", summary="Nothing about bindings.")
    page = client.get("/browse/", {"search": "rolebindings"}).content.decode()
    assert "Did you mean" not in page


def test_a_prefix_ending_in_y_finds_the_forms_the_stemmer_spells_otherwise(api):
    # On SQLite, Porter made the typed "deploy" "deploi", which starts no indexed form of
    # "deployment" ("deploy"): a walk-through's "deploy" missed both deployment guides.
    ResourceFactory(title="A hardened deployment", summary="File by file.")
    ResourceFactory(title="Planning a cluster", summary="Red team.")
    ResourceFactory(title="Other", summary="Pods.")
    assert found(api, "deploy") == ["A hardened deployment"]
    assert found(api, "play") == []  # "pla" would have found "Planning"
    assert found(api, "security") == []


def test_a_whole_word_in_the_summary_ranks_above_a_prefix_in_the_title(api):
    # "data": "Datacenter orchestration" (a prefix in the title) came before "etcd", whose
    # summary says "data".
    ResourceFactory(title="Auditors at work", summary="Schedulers.")
    ResourceFactory(title="etcd", summary="What to audit in a cluster.")
    assert found(api, "audit") == ["etcd", "Auditors at work"]


def test_a_short_word_matches_a_label_only_as_a_whole_word(api):
    # "go" found Diogo's writing; "sa" an area whose description says "safely".
    ResourceFactory(title="By Diogo", authors=[AuthorFactory(slug="diogo", name="Diogo M")])
    ResourceFactory(
        title="In an area",
        security_areas=[
            SecurityAreaFactory(slug="secrets", name="Secrets", description="Kept safely.")
        ],
    )
    ResourceFactory(title="Tagged go", tags=[TagFactory(slug="go", name="Go")])
    assert found(api, "go") == ["Tagged go"]
    assert found(api, "sa") == []
    assert found(api, "safe") == ["In an area"]  # a longer word still matches a word's start


def test_a_long_text_cut_short_does_not_require_the_word_it_cut(api):
    # "rbac " 600 times found nothing: the cut left "r", which every result had to have.
    ResourceFactory(title="RBAC basics", summary="Roles.")
    assert found(api, "rbac " * 600) == ["RBAC basics"]
    assert search.search_terms("rbac " * 600) == ["rbac"]


def test_stop_words_neither_match_nor_exclude(api):
    # On SQLite they excluded: "how to secure etcd" found one where "secure etcd" found two.
    ResourceFactory(title="Securing etcd", summary="Certificates.")
    ResourceFactory(title="Encrypting etcd", summary="To secure it at rest.")
    assert sorted(found(api, "how to secure etcd")) == sorted(found(api, "secure etcd"))
    assert len(found(api, "how to secure etcd")) == 2


def test_a_level_word_ranks_resources_of_that_difficulty_first(api):
    # Not required: "kubernetes security best practices for beginners" found nothing.
    ResourceFactory(title="RBAC from zero", summary="Roles.", difficulty=1)
    ResourceFactory(title="RBAC escalation paths", summary="Roles.", difficulty=3)
    ResourceFactory(title="Pods", summary="Containers.", difficulty=1)
    assert found(api, "beginner rbac") == ["RBAC from zero", "RBAC escalation paths"]
    assert found(api, "advanced rbac") == ["RBAC escalation paths", "RBAC from zero"]
    assert sorted(found(api, "beginners")) == ["Pods", "RBAC from zero"]  # alone, a filter


def test_words_learners_join_find_the_words_the_catalog_writes_apart(api):
    ResourceFactory(title="Securing the API server", summary="Flags.")
    ResourceFactory(title="Multi-tenancy", summary="Namespaces.")
    assert found(api, "kube-apiserver") == ["Securing the API server"]
    ResourceFactory(title="Admission controllers", summary="Including NodeRestriction.")
    assert found(api, "node restriction") == ["Admission controllers"]
    assert found(api, "multitenancy") == ["Multi-tenancy"]


@pytest.mark.parametrize(
    ("word", "is_prefix"),
    [
        ("config", True),
        ("network", True),
        ("secret", True),
        ("ingress", True),
        ("rbac", False),  # "read" found "ready", "name" namespaces
        ("trivy", False),  # stemmed "trivi", it found "non-trivial"
        ("pod", False),
        ("k8s", False),
        ("using", False),
        ("policies", False),
        ("netpol", False),
        ("1234", False),
    ],
)
def test_which_words_match_as_prefixes(word, is_prefix):
    assert search.is_prefix_term(word) is is_prefix


def test_search_requires_every_word(api):
    ResourceFactory(title="RBAC for humans", summary="Roles and bindings.")
    ResourceFactory(title="RBAC audit", summary="Who can do what.")
    assert found(api, "rbac roles") == ["RBAC for humans"]


def test_search_finds_resources_by_tag_area_and_author_names(api):
    ResourceFactory(title="Tagged", tags=[TagFactory(slug="falco", name="Falco")])
    ResourceFactory(
        title="In an area",
        security_areas=[SecurityAreaFactory(slug="supply-chain", name="Supply chain")],
    )
    ResourceFactory(
        title="Authored", authors=[AuthorFactory(slug="ian-coldwater", name="Ian Coldwater")]
    )
    ResourceFactory(title="Other")
    assert found(api, "falco") == ["Tagged"]
    assert found(api, "supply chain") == ["In an area"]
    assert found(api, "coldwater") == ["Authored"]


def test_an_area_is_found_by_what_its_description_says_it_covers(api):
    # A walk-through searched "apparmor" and found nothing: only the Container hardening
    # area's description names it.
    hardening = SecurityAreaFactory(
        slug="container-hardening",
        name="Container hardening",
        description="Namespaces, capabilities, seccomp/AppArmor/SELinux, non-root users.",
    )
    ResourceFactory(title="Locking down pods", security_areas=[hardening])
    ResourceFactory(title="Other", summary="Nothing about profiles.")
    assert found(api, "apparmor") == ["Locking down pods"]
    assert found(api, "selinux") == ["Locking down pods"]


def test_an_abbreviation_finds_what_the_catalog_spells_out(api):
    ResourceFactory(title="Kubernetes the hard way", summary="From scratch.")
    ResourceFactory(title="PodSecurityPolicy is gone", summary="What replaced it.")
    ResourceFactory(title="Other", summary="Docker only.")
    assert found(api, "k8s") == ["Kubernetes the hard way"]
    assert found(api, "psp") == ["PodSecurityPolicy is gone"]
    assert found(api, "k8s hard") == ["Kubernetes the hard way"]  # every word still counts
    assert found(api, "psp hard") == []
    ResourceFactory(title="Pod Security Admission in practice", summary="Namespace labels.")
    ResourceFactory(title="Admission webhooks", summary="Pod mutation and security.")
    ResourceFactory(title="Service meshes", summary="Mutually authenticated TLS between pods.")
    assert found(api, "psa") == ["Pod Security Admission in practice"]
    assert found(api, "mtls") == ["Service meshes"]


def test_security_shorthand_finds_what_the_catalog_spells_out(api):
    ResourceFactory(title="Who are you?", summary="Authentication with client certificates.")
    ResourceFactory(title="What may you do?", summary="Authorization modes.")
    ResourceFactory(title="The hard way", tags=[TagFactory(slug="pki-tls", name="PKI/TLS")])
    assert found(api, "authn") == ["Who are you?"]
    assert found(api, "authz") == ["What may you do?"]
    assert sorted(found(api, "certs")) == ["The hard way", "Who are you?"]


def test_a_word_in_the_title_ranks_above_the_same_word_only_in_a_tag(api):
    ResourceFactory(title="Tagged only", tags=[TagFactory(slug="falco", name="Falco")])
    ResourceFactory(title="Falco rules explained")
    assert found(api, "falco") == ["Falco rules explained", "Tagged only"]


def test_search_sees_a_title_edit_at_once(curator_api, api):
    resource = ResourceFactory(title="Old words", summary="Nothing else.")
    response = curator_api.patch(f"{LIST}{resource.pk}/", {"title": "Kyverno policies"})
    assert response.status_code == 200
    assert found(api, "kyverno") == ["Kyverno policies"]
    assert found(api, "old") == []


def test_search_sees_rows_written_in_bulk(api, settings):
    # Bulk statements (the poller's, the seed loader's) skip model code: the index must
    # still follow, because the database maintains it. (Test code writes here without the
    # services' notice, so the page cache is off.)
    settings.CATALOG_PAGE_CACHE_SECONDS = 0
    resource = ResourceFactory(title="Before", summary="Nothing.")
    Resource.objects.filter(pk=resource.pk).update(summary="Now about seccomp profiles.")
    assert found(api, "seccomp") == ["Before"]
    Resource.objects.filter(pk=resource.pk).delete()
    assert found(api, "seccomp") == []


def test_search_sees_a_tag_added_or_renamed_after_the_resource(curator_api, api):
    resource = ResourceFactory(title="Untagged at first")
    curator_api.post("/api/tags/", {"slug": "opa", "name": "Open Policy Agent"})
    curator_api.patch(f"{LIST}{resource.pk}/", {"tags": ["opa"]}, format="json")
    assert found(api, "agent") == ["Untagged at first"]
    curator_api.patch("/api/tags/opa/", {"name": "Gatekeeper"})
    assert found(api, "gatekeeper") == ["Untagged at first"]
    assert found(api, "agent") == []


def test_the_api_search_hides_unapproved_resources(api):
    ResourceFactory(title="Pending etcd", status="pending")
    assert found(api, "etcd") == []


def test_a_curators_search_finds_pending_and_rejected_resources_by_their_words(curator_api):
    # Their vectors are not stored on PostgreSQL (only approved resources have one).
    ResourceFactory(title="Pending etcd backups", summary="Snapshots.", status="pending")
    ResourceFactory(title="Rejected note", summary="About etcd, barely.", status="rejected")
    ResourceFactory(title="Approved etcd guide", summary="Defrag.")
    assert found(curator_api, "etcd") == [
        "Approved etcd guide",
        "Pending etcd backups",
        "Rejected note",
    ]
    assert found(curator_api, "snapshots", status="pending") == ["Pending etcd backups"]


@postgres_only
def test_only_approved_resources_store_a_search_vector_and_approval_makes_it():
    resource = ResourceFactory(title="Falco", summary="Runtime security.", status="pending")

    def stored() -> str | None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT search_vector::text FROM catalog_resource WHERE id = %s", [resource.pk]
            )
            return cursor.fetchone()[0]

    assert stored() is None
    services.resource_approve(resource=resource, by=None)
    assert "'falco':1A" in (stored() or "")
    services.resource_reject(resource=resource, by=None)
    assert stored() is None


def test_a_search_without_words_finds_nothing(api):
    ResourceFactory(title="Anything")
    assert found(api, "&|!:*") == []


@pytest.mark.parametrize(
    "text",
    [
        "'",
        '"',
        "'; DROP TABLE catalog_resource; --",
        '"unterminated',
        "rbac & !etcd | (pods",
        "rbac:* <-> etcd",
        "a:b:c !!! ||| &&&",
        "NEAR(rbac etcd, 2)",
        "rbac OR etcd AND NOT pods",
        "title:rbac",
        "\\",
        "%_%",
        "ünïcödé 日本語 🙂",
        "rbac " * 5000,
        "x" * 10_000,
        "_",
        "___ a_b _x_",
        "½ ² ⅷ",
    ],
)
def test_hostile_search_text_is_a_plain_search(api, text):
    ResourceFactory(title="RBAC basics")
    response = api.get(LIST, {"search": text})
    assert response.status_code == 200, response.content[:300]
    assert Resource.objects.filter(title="RBAC basics").exists()


def test_a_nul_character_in_a_search_is_a_400(api):
    assert api.get(LIST, {"search": "rbac\x00"}).status_code == 400


def test_search_words_are_capped():
    assert len(search.search_terms("word " * 100)) == 1
    terms = search.search_terms(" ".join(f"w{n}" for n in range(100)))
    assert len(terms) == search.MAX_TERMS
    assert search.search_terms("x" * 1000) == ["x" * search.MAX_TERM_LENGTH]


@postgres_only
def test_stop_words_neither_match_nor_exclude_on_postgresql(api):
    ResourceFactory(title="RBAC basics", summary="Roles.")
    assert found(api, "how to rbac") == ["RBAC basics"]


@postgres_only
def test_the_stored_vector_weights_title_above_summary():
    resource = ResourceFactory(title="Falco", summary="Runtime security.")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_vector::text FROM catalog_resource WHERE id = %s", [resource.pk]
        )
        vector = cursor.fetchone()[0]
    assert "'falco':1A" in vector
    assert "'secur':3B" in vector


@sqlite_only
def test_sqlite_index_comes_back_after_a_table_rebuild_dropped_its_triggers(api):
    ResourceFactory(title="Indexed before")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {search.FTS_TABLE}_insert")
    ResourceFactory(title="Written while unindexed")
    assert search.sqlite_index_ensure(connection) is True
    assert found(api, "unindexed") == ["Written while unindexed"]
    assert search.sqlite_index_ensure(connection) is False


@pytest.mark.parametrize("text", ["'", "rbac & !etcd | (pods", "x" * 5000, "&|!:*"])
def test_the_browse_page_takes_hostile_search_text_too(client, text):
    ResourceFactory(title="RBAC basics")
    assert client.get("/browse/", {"search": text}).status_code == 200


def test_the_browse_page_orders_a_search_by_rank(client):
    ResourceFactory(title="A tour of the API", summary="Touches on audit logging.")
    ResourceFactory(title="Zero to audit logging", summary="Audit everything.")
    items = client.get("/browse/", {"search": "audit"}).context["items"]
    assert [item["card"]["title"] for item in items] == [
        "Zero to audit logging",
        "A tour of the API",
    ]


@postgres_only
def test_the_stored_vector_has_a_gin_index():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'catalog_resource' "
            "AND indexname = 'catalog_resource_search_vector'"
        )
        (definition,) = cursor.fetchone()
    assert "USING gin (search_vector)" in definition


def test_full_width_letters_and_ligatures_search_as_the_letters_they_are(api):
    # A walk-through's full-width "RBAC" (as an East Asian input method types it) found nothing.
    ResourceFactory(title="RBAC good practices", summary="Roles and bindings.")
    ResourceFactory(title="Unrelated", summary="Pods and services.")
    full_width = "\uff32\uff22\uff21\uff23"
    assert found(api, full_width) == ["RBAC good practices"]
    assert found(api, "rbac") == ["RBAC good practices"]
    assert search.search_terms(f"\ufb01rst {full_width}") == ["first", "rbac"]
