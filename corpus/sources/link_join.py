"""Attach Reddit link data to fetched pages: WebText keeps only pages of harvested links."""

from __future__ import annotations

from corpus.records import Document
from corpus.sources.links import Link
from corpus.steps import Filter
from corpus.urls import url_key


class LinkJoin(Filter):
    """Keeps pages whose URL is a harvested link and copies its karma and subreddit.

    The join is by URL key (`corpus.urls.url_key`), never by URL text: a link is fetched as posted
    (`?amp`, tracking parameters and all) and its page is named by the URL requested, while
    `links` is keyed by the canonical form. `url_key` gives all three the same key.
    """

    name = "join_links"

    def __init__(self, links: dict[str, Link]) -> None:
        super().__init__()
        self.links = links

    def filter(self, doc: Document) -> bool | str:
        link = self.links.get(url_key(doc.url) or "")
        if link is None:
            return "not_a_harvested_link"
        doc.karma = link.karma
        doc.subreddit = link.subreddit
        doc.reddit_id = link.reddit_id
        return True
