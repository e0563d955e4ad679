"""Property-based API conformance: schemathesis drives every documented operation.

Fixed seed (derandomize) and bounded examples keep it deterministic and fast. It
runs as a curator, so write operations are exercised too, against the seed catalog.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import checks

from catalog.seeding import seed_catalog_load


@pytest.fixture
def api_schema(db, carol):
    from kubelearn.wsgi import application

    seed_catalog_load()
    # Like Django's test Client: the app is called in-process inside the test transaction,
    # so it must not close "old" connections at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def curator_headers(carol):
    token, _ = Token.objects.get_or_create(user=carol)
    return {"Authorization": f"Token {token.key}"}


schema = schemathesis.pytest.from_fixture("api_schema")
CONTRACT_CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_matches_its_schema_and_never_errors(case, curator_headers):
    # The contract under test: no 5xx, every status documented, every body as documented.
    # (schemathesis' positive/negative-data heuristics are left out here: a weak password or
    # wrong credentials are schema-valid yet rightly refused. Reads get them below.)
    case.call_and_validate(headers=curator_headers, checks=CONTRACT_CHECKS)


# Query parameters have no business rules behind them (unlike a password or a feed address in a
# body), so for reads the schema's bounds are the whole truth: what it allows must be served and
# what it forbids must be refused.
@schema.include(method="GET").parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_read_accepts_what_its_schema_allows_and_refuses_the_rest(case, curator_headers):
    case.call_and_validate(
        headers=curator_headers,
        checks=[
            *CONTRACT_CHECKS,
            checks.positive_data_acceptance,
            checks.negative_data_rejection,
        ],
    )


def test_schema_documents_every_public_endpoint(client):
    document = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in [
        "/api/resources/",
        "/api/resources/{id}/",
        "/api/resources/{id}/approve/",
        "/api/resources/{id}/reject/",
        "/api/tags/",
        "/api/authors/",
        "/api/security-areas/",
        "/api/paths/",
        "/api/paths/{slug}/",
        "/api/auth/register/",
        "/api/auth/token/",
    ]:
        assert path in document["paths"], path


def test_swagger_ui_is_served(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def _schema(client) -> dict:
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def test_a_progress_rating_is_documented_as_the_write_takes_it(client):
    rating = _schema(client)["components"]["schemas"]["Progress"]["properties"]["rating"]
    assert (rating["minimum"], rating["maximum"]) == (1, 5)


def test_the_schemas_introduction_says_how_to_get_and_send_a_token(client):
    # A walk-through's developer found only 'Token-based authentication with required prefix
    # "Token"' in the docs, and nothing on where a token comes from.
    description = _schema(client)["info"]["description"]
    assert "`POST /api/auth/register/`" in description
    assert "`POST /api/auth/token/`" in description
    assert "`Authorization: Token <your token>`" in description


@pytest.mark.parametrize(
    "path", ["/api/resources/", "/api/tags/", "/api/authors/", "/api/security-areas/"]
)
def test_public_reads_are_documented_as_open_to_anonymous_clients(client, path):
    operations = _schema(client)["paths"][path]
    assert {} in operations["get"]["security"]
    assert {} not in operations["post"]["security"]  # writes still need a curator


def test_learner_and_feed_endpoints_are_documented_as_needing_credentials(client):
    paths = _schema(client)["paths"]
    for path in ("/api/me/queue/", "/api/me/notes/", "/api/me/notes/{resource_id}/", "/api/feeds/"):
        assert {} not in paths[path]["get"]["security"], path


@pytest.mark.django_db
def test_a_feed_without_a_known_site_answers_null_not_an_empty_uri(curator_api):
    from catalog.models import Feed

    Feed.objects.create(url="https://blog.example.org/feed.xml")
    (feed,) = curator_api.get("/api/feeds/").json()["results"]
    assert feed["site_url"] is None


def test_the_notes_list_documents_no_search_or_ordering_it_would_ignore(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    parameters = schema["paths"]["/api/me/notes/"]["get"].get("parameters", [])
    assert {p["name"] for p in parameters} & {"search", "ordering"} == set()


def test_account_deletion_documents_the_password_body_openapi_cannot_describe(client):
    # A walk-through's client, built from the schema, could not delete its account: OpenAPI
    # 3.0 gives a DELETE no request body, so the description must say what to send.
    operation = _schema(client)["paths"]["/api/me/account/"]["delete"]
    assert '{"password": "…"}' in operation["description"]


def test_free_text_query_parameters_document_that_a_nul_is_refused(client):
    # Every address refuses a NUL (no column holds one); schemathesis found ?area=…%00… refused
    # while the schema allowed it.
    parameters = _schema(client)["paths"]["/api/resources/"]["get"]["parameters"]
    area = next(p for p in parameters if p["name"] == "area")
    assert area["schema"]["pattern"] == "^[^\\u0000]*$"
    assert client.get("/api/resources/", {"area": "rb\x00ac"}).status_code == 400


def test_writes_document_a_body_too_large_or_in_a_format_the_api_does_not_read(client):
    # The API answers both (413, 415); the schema did not say so (walk-through).
    operation = _schema(client)["paths"]["/api/me/notes/{resource_id}/"]["put"]
    assert {"413", "415"} <= set(operation["responses"])
    assert "413" not in _schema(client)["paths"]["/api/resources/"]["get"]["responses"]


@pytest.mark.django_db
def test_a_blank_homepage_validates_against_the_schema_without_format_checks(client):
    # "" matched both branches of a oneOf (a URL, the empty string) for a validator that does
    # not check formats, which refused every author list (an API walk-through).
    import jsonschema

    from tests.factories import AuthorFactory

    schema = _schema(client)
    AuthorFactory(homepage="")
    author_schema = dict(schema["components"]["schemas"]["Author"])
    for author in client.get("/api/authors/").json()["results"]:
        jsonschema.validate(author, author_schema)  # raises on a mismatch
    assert '"oneOf": [{"type": "string", "format": "uri"' not in str(schema)


def test_the_docs_describe_request_bodies_without_the_code_that_refuses_unknown_fields(client):
    descriptions = [
        component.get("description", "")
        for component in _schema(client)["components"]["schemas"].values()
    ]
    assert not [text for text in descriptions if "write serializer" in text or "DRF" in text]


def test_a_429_documents_its_retry_after_header(client):
    operation = _schema(client)["paths"]["/api/auth/token/"]["post"]
    assert operation["responses"]["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"


def test_an_account_without_an_email_address_matches_its_schema(client):
    # "" is the answer when there is none; the schema said `format: email`, which a client
    # checking formats refused (schemathesis, in an API client's walk-through).
    email = _schema(client)["components"]["schemas"]["Account"]["properties"]["email"]
    assert email["type"] == "string" and "format" not in email


def test_errors_declared_without_a_body_are_documented_with_theirs(client):
    # "No response body" was documented for `next`'s 400, which answers {"minutes": [...]},
    # and for 404s that answer {"detail": ...} (an API client's walk-through).
    paths = _schema(client)["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            for code, response in operation.get("responses", {}).items():
                if code.startswith("4"):
                    assert "content" in response, (method, path, code)
                    assert response["description"] != "No response body", (method, path, code)


def test_reads_document_not_modified_and_refused_formats(client):
    # Every read answers 304 to a client holding its ETag and 412 to a stale If-Match, and any
    # call 406 to an Accept the API cannot write; none of them was documented.
    operation = _schema(client)["paths"]["/api/resources/"]["get"]
    assert {"304", "406", "412"} <= set(operation["responses"])
    assert "content" not in operation["responses"]["304"]
