import pytest

from catalog.addresses import InvalidAddress, canonical_url


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("HTTPS://Kubernetes.IO/docs/", "https://kubernetes.io/docs/"),
        ("https://kubernetes.io:443/docs/", "https://kubernetes.io/docs/"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org/a#section-2", "https://example.org/a"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org/a?utm_source=x&utm_medium=y&id=3", "https://example.org/a?id=3"),
        ("https://example.org/a?fbclid=abc&gclid=def", "https://example.org/a"),
        ("https://example.org/a?b=2&a=1", "https://example.org/a?b=2&a=1"),
        ("  https://example.org/a  ", "https://example.org/a"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://example.org:8443/x", "https://example.org:8443/x"),
    ],
)
def test_canonical_url_gives_one_spelling(spelling, canonical):
    assert canonical_url(spelling) == canonical


def test_two_spellings_of_one_address_are_equal():
    assert canonical_url("HTTPS://Example.org:443/p?utm_campaign=z#top") == canonical_url(
        "https://example.org/p"
    )


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a url",
        "/relative/path",
        "ftp://example.org/file",
        "javascript:alert(1)",
        "https://",
        "https://user:pass@example.org/",
        "https://example.org:99999/",
        "https://exa mple.com/",
        "https://exa%20mple.com/",
        "https://example..com/",
        "https://" + "a" * 64 + ".example.com/",
        "https://" + "a." * 130 + "com/",
        "https://exa<mple.com/",
    ],
)
def test_canonical_url_rejects_what_is_not_an_http_address(garbage):
    with pytest.raises(InvalidAddress):
        canonical_url(garbage)


@pytest.mark.parametrize(
    "address",
    [
        "https://my_host.example.org/",
        "http://127.0.0.1:8000/",
        "https://[::1]/",
        "https://bücher.de/",
    ],
)
def test_canonical_url_keeps_hosts_that_can_be_reached(address):
    assert canonical_url(address)


def test_the_api_refuses_a_resource_address_whose_host_has_a_space(curator_api):
    response = curator_api.post(
        "/api/resources/", {"title": "t", "url": "https://exa mple.com/"}, format="json"
    )
    assert response.status_code == 400
    assert "not a valid host name" in str(response.json()["url"])


@pytest.mark.parametrize(
    ("address", "also"),
    [
        ("https://example.org/a/", "http://www.example.org/a"),
        ("https://www.example.org/a", "https://example.org/a/"),
        ("https://example.org:8443/p", "http://www.example.org:8443/p/"),
        ("https://example.org/a?x=1", "https://example.org/a/?x=1"),
    ],
)
def test_other_spellings_of_an_address_cover_scheme_www_and_a_trailing_slash(address, also):
    from catalog.addresses import other_spellings

    spellings = other_spellings(address)
    assert also in spellings and address not in spellings


@pytest.mark.parametrize(
    ("address", "never"),
    [
        ("http://10.0.0.1/x", "http://www.10.0.0.1/x"),
        ("https://localhost/a", "https://www.localhost/a"),
        ("https://example.org/a", "https://example.org/a?x=1"),
        ("https://example.org/a", "https://example.org/b"),
    ],
)
def test_other_spellings_never_invent_hosts_or_change_path_and_query(address, never):
    from catalog.addresses import other_spellings

    assert never not in other_spellings(address)
