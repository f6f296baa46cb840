from corpus.urls import canonical_url, registered_domain, url_key


def test_canonical_url_normalises_case_ports_fragments_and_tracking():
    assert (canonical_url("HTTP://WWW.Example.COM:80/a/B?utm_source=x&id=3&fbclid=9#top")
            == "http://www.example.com/a/B?id=3")
    assert canonical_url("https://example.com:443") == "https://example.com/"
    assert canonical_url("https://example.com:8443/x") == "https://example.com:8443/x"


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

    urls = ["https://example.com", "https://example.com/a/b.html", "http://a.b-c.org/x_y~z/%20/",
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
