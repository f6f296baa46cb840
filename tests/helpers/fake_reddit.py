"""A fake Reddit API on 127.0.0.1 for the praw harvest: OAuth token endpoint, subreddit listings with
paging, and scripted faults (429, 5xx, a request that never answers).

    fake = FakeReddit({"news/top": [post(i) for i in range(150)]})
    with LocalServer(fake.app) as server: ...   # praw pointed at server.origin
"""

from __future__ import annotations

import asyncio
import base64

from aiohttp import web

CLIENT_ID, CLIENT_SECRET = "fake-client-id", "fake-client-secret-d41d8cd9"
TOKEN = "fake-access-token-8f14e45f"


def post(i: int, subreddit: str = "news", **kw) -> dict:
    """A submission as the API returns it (more fields than the harvest keeps)."""
    return {"id": f"p{i:04d}", "name": f"t3_p{i:04d}", "subreddit": subreddit,
            "url": f"https://site{i % 7}.example/story/{i}", "score": i % 9, "created_utc": 1_600_000_000.0 - i * 60,
            "is_self": i % 13 == 0, "over_18": i % 17 == 0, "title": f"Story {i}", "selftext": "",
            "permalink": f"/r/{subreddit}/comments/p{i:04d}/", "domain": f"site{i % 7}.example",
            "num_comments": i, "author": "someone", "preview": {"images": []}, **kw}


class FakeReddit:
    """Reddit's OAuth token endpoint and subreddit listings, with scripted faults.

    `faults[n] = (status, headers)` answers the n-th listing request (1-based) with that status;
    `hang_from = n` makes the n-th and later listing requests never answer.
    """

    def __init__(self, listings: dict[str, list[dict]], faults: dict | None = None, hang_from: int | None = None):
        self.listings = listings
        self.faults = faults or {}
        self.hang_from = hang_from
        self.requests: list[tuple[str, dict, int]] = []  # path, query, status answered
        self.token_requests = 0
        self.app = web.Application()
        self.app.router.add_post("/api/v1/access_token", self.token)
        self.app.router.add_get("/r/{sub}/{listing}", self.listing)

    async def token(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": 401}, status=401)
        self.token_requests += 1
        return web.json_response({"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600, "scope": "*"})

    async def listing(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        n = sum(1 for _ in self.requests) + 1
        if request.headers.get("Authorization") != f"bearer {TOKEN}":
            self.requests.append((request.path, query, 401))
            return web.json_response({"error": 401}, status=401)
        if self.hang_from is not None and n >= self.hang_from:
            self.requests.append((request.path, query, 0))
            await asyncio.sleep(3600)
        if n in self.faults:
            status, headers = self.faults[n]
            self.requests.append((request.path, query, status))
            return web.json_response({"message": "scripted fault", "error": status}, status=status, headers=headers)
        key = f"{request.match_info['sub']}/{request.match_info['listing']}"
        if key not in self.listings:
            self.requests.append((request.path, query, 404))
            return web.json_response({"message": "Not Found", "error": 404}, status=404)
        posts = self.listings[key]
        start = 0
        if "after" in query:
            start = next(i for i, p in enumerate(posts) if p["name"] == query["after"]) + 1
        page = posts[start:start + int(query.get("limit", 25))]
        more = start + len(page) < len(posts)
        self.requests.append((request.path, query, 200))
        return web.json_response({"kind": "Listing", "data": {
            "after": page[-1]["name"] if page and more else None, "before": None, "dist": len(page),
            "children": [{"kind": "t3", "data": p} for p in page]}})
