import pytest

from corpus.urls import canonical_url, registered_domain, request_url, url_key


def test_canonical_url_normalises_case_ports_fragments_and_tracking():
    assert (canonical_url("HTTP://WWW.Example.COM:80/a/B?utm_source=x&id=3&fbclid=9#top")
            == "http://www.example.com/a/B?id=3")
    assert canonical_url("https://example.com:443") == "https://example.com/"
    assert canonical_url("https://example.com:8443/x") == "https://example.com:8443/x"
    # The parameters left are kept as written: a server may tell `?amp` from `?amp=`.
    assert canonical_url("https://x.example/a?amp&utm_medium=s") == "https://x.example/a?amp"
    assert canonical_url("https://x.example/a?x=1;y=2&&fbclid=1") == "https://x.example/a?x=1;y=2"


def test_canonical_url_rejects_what_cannot_be_fetched():
    assert canonical_url("ftp://example.com/file") is None
    assert canonical_url("javascript:alert(1)") is None
    assert canonical_url("http://[::1") is None
    assert canonical_url("/relative/path") is None


def test_url_key_ignores_scheme_and_www():
    assert url_key("http://www.example.com/a") == url_key("https://example.com/a#x") == "example.com/a"
    assert url_key("https://example.com/a") != url_key("https://example.com/A")
    assert url_key("https://example.com/a/") == url_key("https://example.com/a") == "example.com/a"
    assert url_key("https://example.com/a/?x=1") == "example.com/a?x=1"
    assert url_key("https://example.com/") == "example.com/"


def test_registered_domain_uses_the_public_suffix_list_offline():
    assert registered_domain("https://news.bbc.co.uk/story") == "bbc.co.uk"
    assert registered_domain("EN.Wikipedia.org") == "wikipedia.org"


def test_fast_path_agrees_with_the_full_parse():
    from corpus.urls import _CANONICAL, host_and_path

    urls = ["https://example.com", "https://example.com/a/b.html", "http://a.b-c.org/x_y~z/.a/..b/",
            "https://news.example/2016/04/why-tidal-power", "https://x.example/a(b)/c,d;e=f:g@h"]
    for url in urls:
        assert _CANONICAL.match(url)
        canonical_url.cache_clear()
        fast = canonical_url(url)
        slow = canonical_url.__wrapped__(url + "#")  # a fragment forces the full parse
        assert fast == slow, url
        from urllib.parse import urlsplit

        assert host_and_path(fast) == (urlsplit(fast).hostname, urlsplit(fast).path)
    assert host_and_path("https://example.com:8443/a?b=1") == ("example.com", "/a")
    # Escapes and dot segments take the full parse, which re-spells them as the request does.
    for url in ("http://a.example/%7e/%20/", "http://a.example/a/../b", "http://a.example/./b"):
        assert not _CANONICAL.match(url)


def test_canonical_url_keeps_ipv6_brackets():
    assert canonical_url("http://[::1]:8080/x") == "http://[::1]:8080/x"
    assert canonical_url("https://[2001:DB8::1]:443") == "https://[2001:db8::1]/"
    assert url_key("http://[::1]:8080/x") == "[::1]:8080/x"


# Posted URL -> what is requested: the URL as posted, only made safe to send.
AS_POSTED = {
    "https://x.example/a?amp": "https://x.example/a?amp",                       # not ?amp=
    "https://x.example/a?x=1;y=2": "https://x.example/a?x=1;y=2",               # not ?x=1%3By%3D2
    "https://github.com/o/r/blob/f.py?ref=v1.0": "https://github.com/o/r/blob/f.py?ref=v1.0",  # kept
    "http://[::1]:8080/x": "http://[::1]:8080/x",
    "https://x.example/a?utm_source=reddit&id=3": "https://x.example/a?utm_source=reddit&id=3",
    "  https://x.example/story#comments \n": "https://x.example/story",        # trimmed, no fragment
    "https://B\u00fccher.example/stra\u00dfe?q=\u00e9": "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%A9",
    "https://x.example/a b": "https://x.example/a%20b",
    "https://user:secret@x.example/a": "https://x.example/a",                   # credentials are not sent
}


@pytest.mark.parametrize("posted, sent", list(AS_POSTED.items()))
def test_request_url_is_the_posted_url_made_safe(posted, sent):
    assert request_url(posted) == sent
    assert request_url(sent) == sent  # idempotent
    # The key of what is fetched is the key of what was posted: the page joins its link.
    assert canonical_url(sent) == canonical_url(posted) and url_key(sent) == url_key(posted)


def test_request_url_refuses_only_what_cannot_be_parsed():
    assert request_url("http://[::1") is None and request_url("http://x.example:99999/") is None
    assert request_url("ftp://x.example/f") == "ftp://x.example/f"  # the fetcher names the scheme
