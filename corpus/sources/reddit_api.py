"""Link harvest from the live Reddit API through praw, resumable, into dump-style JSON Lines.

    result = harvest_api(RedditApiConfig(subreddits=["news"], listings=("top",), time_filter="week"), out_dir)
    subs = read_submissions([str(result.path)])     # the same reader as for Pushshift dumps

Credentials come only from praw itself: a `praw.ini` site or the `praw_client_id` /
`praw_client_secret` (and optionally `praw_user_agent`) environment variables. They are never
passed through this module, printed or logged.

Each listing page is appended to `submissions.jsonl` and then a small state file records the
page's `after` cursor and the file's length, both written before the next page is asked for. A
stopped harvest started again cuts the JSONL back to that length (dropping a half-written page)
and continues from the cursor, so no submission is lost or written twice.

Rate limits: prawcore paces requests by Reddit's `X-Ratelimit-*` headers and retries 5xx and
connection errors twice; on top of that a 429 waits for its Retry-After, and errors that outlast
prawcore's retries are retried with exponential backoff (`corpus.retry`), each wait cut to
`max_backoff`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from corpus.fetch.config import DEFAULT_USER_AGENT
from corpus.retry import BackoffPolicy, GaveUp, Retry, retry_call
from corpus.steps import StepStats
from corpus.writers.atomic import atomic_write_json

log = logging.getLogger(__name__)

LISTINGS = ("top", "new")
TIME_FILTERS = ("hour", "day", "week", "month", "year", "all")
# The fields a dump line needs for link harvesting, plus a few that help a person checking it.
KEPT_FIELDS = ("id", "name", "subreddit", "url", "score", "created_utc", "is_self", "over_18", "title",
               "permalink", "domain", "num_comments")


class HarvestError(RuntimeError):
    """The harvest stopped; its progress is saved and a rerun continues from there."""


@dataclass
class RedditApiConfig:
    """What to harvest from the live API, and how patiently."""

    subreddits: list[str]
    listings: tuple[str, ...] = ("top",)
    time_filter: str = "all"            # for `top`: hour, day, week, month, year, all
    limit: int | None = None            # submissions per subreddit and listing (Reddit stops near 1000)
    since: int | None = None            # keep submissions created at or after (unix seconds)
    until: int | None = None            # ... and before this
    page_size: int = 100                # Reddit's maximum
    site_name: str | None = None        # the praw.ini section holding the credentials
    api_url: str | None = None          # another API endpoint (a mirror or a test server)
    user_agent: str = DEFAULT_USER_AGENT  # used when praw.ini / praw_user_agent give none
    max_retries: int = 5
    backoff_base: float = 2.0
    max_backoff: float = 300.0
    progress: bool = True

    def __post_init__(self) -> None:
        self.listings = tuple(self.listings)
        bad = [x for x in self.listings if x not in LISTINGS]
        if bad or not self.listings:
            raise ValueError(f"listings must be among {LISTINGS}, not {bad or 'nothing'}")
        if self.time_filter not in TIME_FILTERS:
            raise ValueError(f"time_filter must be one of {TIME_FILTERS}")
        if not self.subreddits:
            raise ValueError("no subreddit given")

    def fingerprint(self) -> dict[str, Any]:
        """What the harvested set depends on; a different fingerprint is a different harvest."""
        return {"subreddits": sorted(s.lower() for s in self.subreddits), "listings": sorted(self.listings),
                "time_filter": self.time_filter, "limit": self.limit, "since": self.since, "until": self.until}

    def folder_name(self) -> str:
        """A readable folder name that changes with the fingerprint, so harvests never mix."""
        digest = hashlib.sha1(json.dumps(self.fingerprint(), sort_keys=True).encode()).hexdigest()[:10]
        subs = "+".join(sorted(s.lower() for s in self.subreddits))[:40]
        return f"{subs}-{'+'.join(sorted(self.listings))}-{self.time_filter}-{digest}"


@dataclass
class HarvestResult:
    """The JSON Lines file of harvested submissions and the harvest's counters."""

    path: Path
    stats: StepStats
    pages: int = 0


@dataclass
class _Cursor:
    after: str | None = None
    seen: int = 0      # submissions received so far (what `limit` counts)
    done: bool = False


@dataclass
class _State:
    fingerprint: dict[str, Any]
    jsonl_bytes: int = 0
    cursors: dict[str, _Cursor] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, fingerprint: dict[str, Any]) -> "_State":
        if not path.exists():
            return cls(fingerprint)
        raw = json.loads(path.read_text())
        if raw.get("fingerprint") != fingerprint:
            raise HarvestError(f"{path} belongs to another harvest")
        return cls(raw["fingerprint"], raw["jsonl_bytes"],
                   {k: _Cursor(**v) for k, v in raw["cursors"].items()}, raw.get("stats", {}))

    def save(self, path: Path) -> None:
        atomic_write_json(path, {"fingerprint": self.fingerprint, "jsonl_bytes": self.jsonl_bytes,
                                 "cursors": {k: asdict(v) for k, v in self.cursors.items()},
                                 "stats": self.stats})


def make_reddit(config: RedditApiConfig):
    """A read-only praw client; credentials are whatever praw.ini or the environment hold."""
    import praw
    from praw.exceptions import MissingRequiredAttributeException

    settings: dict[str, Any] = {"check_for_updates": False, "check_for_async": False}
    if config.api_url:
        settings["oauth_url"] = settings["reddit_url"] = config.api_url.rstrip("/")
    try:
        return praw.Reddit(site_name=config.site_name, **settings)
    except MissingRequiredAttributeException as err:
        if "user_agent" in str(err):
            return praw.Reddit(site_name=config.site_name, user_agent=config.user_agent, **settings)
        raise HarvestError("Reddit API credentials are missing: set praw_client_id and praw_client_secret "
                           "in the environment, or give a praw.ini site (--praw-site)") from None


def _listing_key(subreddit: str, listing: str, time_filter: str) -> str:
    return f"{subreddit.lower()}/{listing}" + (f"/{time_filter}" if listing == "top" else "")


def _dump_line(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in KEPT_FIELDS if k in data}


class ApiHarvester:
    """Pages through listings with praw, writing submissions and saving progress after each page."""

    def __init__(self, config: RedditApiConfig, out_dir: Path, reddit=None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.dir = Path(out_dir) / config.folder_name()
        self.jsonl = self.dir / "submissions.jsonl"
        self.state_path = self.dir / "state.json"
        self._reddit = reddit
        self.sleep = sleep
        self.stats = StepStats("reddit_api")
        self.pages = 0

    @property
    def reddit(self):
        if self._reddit is None:
            self._reddit = make_reddit(self.config)
        return self._reddit

    def _request_page(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """One listing page, waiting out 429s and retrying errors that outlasted prawcore's retries."""
        import prawcore

        def request(attempt: int) -> dict[str, Any] | Retry:
            try:
                return self.reddit.request(method="GET", path=path, params=params)
            except prawcore.TooManyRequests as err:
                return Retry("rate limited (429)", _seconds(err.retry_after))
            except (prawcore.ServerError, prawcore.RequestException) as err:
                return Retry(type(err).__name__)

        def log_retry(failed: Retry, wait: float, attempt: int) -> None:
            log.warning("%s: %s; waiting %.1fs (attempt %d)", path, failed.reason, wait, attempt)

        cfg = self.config
        backoff = BackoffPolicy(cfg.max_retries, cfg.backoff_base, cfg.max_backoff)  # longer waits are cut
        try:
            return retry_call(request, backoff, sleep=self.sleep, on_retry=log_retry)
        except GaveUp as gave_up:
            raise HarvestError(f"{path}: {gave_up.reason}, still failing after {gave_up.attempts} attempts; "
                               "rerun to continue") from None

    def _in_window(self, created: Any) -> bool:
        try:
            t = float(created)
        except (TypeError, ValueError):
            return self.config.since is None and self.config.until is None
        return ((self.config.since is None or t >= self.config.since)
                and (self.config.until is None or t < self.config.until))

    def run(self) -> HarvestResult:
        """Harvest every listing not finished yet; returns the JSONL path and the counters."""
        import prawcore

        cfg = self.config
        self.dir.mkdir(parents=True, exist_ok=True)
        state = _State.load(self.state_path, json.loads(json.dumps(cfg.fingerprint())))
        if state.stats:
            self.stats = StepStats.from_dict(state.stats)
        # Cut off what a stopped run wrote after its last saved page, then learn what is there.
        if self.jsonl.exists() and self.jsonl.stat().st_size != state.jsonl_bytes:
            log.info("dropping a half-written page from %s", self.jsonl)
            os.truncate(self.jsonl, state.jsonl_bytes)
        seen_ids = set()
        if self.jsonl.exists():
            with open(self.jsonl, "rb") as f:
                seen_ids = {json.loads(line)["id"] for line in f}
        bar = tqdm(desc="reddit api", unit="sub", disable=not cfg.progress, initial=self.stats.n_in)
        with open(self.jsonl, "ab") as out, bar:
            for subreddit in cfg.subreddits:
                for listing in cfg.listings:
                    key = _listing_key(subreddit, listing, cfg.time_filter)
                    cursor = state.cursors.setdefault(key, _Cursor())
                    while not cursor.done:
                        page_limit = cfg.page_size if cfg.limit is None else min(cfg.page_size, cfg.limit - cursor.seen)
                        params: dict[str, Any] = {"limit": page_limit, "count": cursor.seen}
                        if listing == "top":
                            params["t"] = cfg.time_filter
                        if cursor.after:
                            params["after"] = cursor.after
                        try:
                            data = self._request_page(f"r/{subreddit}/{listing}", params)
                        except (prawcore.NotFound, prawcore.Redirect, prawcore.Forbidden) as err:
                            # No such subreddit (Reddit redirects to a search), or a private one.
                            log.warning("r/%s/%s is not available (%s): skipped", subreddit, listing,
                                        type(err).__name__)
                            cursor.done = True
                            state.save(self.state_path)
                            continue
                        except prawcore.PrawcoreException as err:
                            raise HarvestError(f"r/{subreddit}/{listing}: {type(err).__name__}: {err}; "
                                               "progress is saved, rerun to continue") from None
                        listing_data = (data or {}).get("data", {}) if isinstance(data, dict) else {}
                        children = listing_data.get("children", [])
                        oldest = self._write_page(children, seen_ids, out)
                        bar.update(len(children))
                        cursor.seen += len(children)
                        cursor.after = listing_data.get("after")
                        cursor.done = (not cursor.after or not children
                                       or (cfg.limit is not None and cursor.seen >= cfg.limit)
                                       # `new` is newest first: past the window start, nothing older fits.
                                       or (listing == "new" and cfg.since is not None and oldest is not None
                                           and oldest < cfg.since))
                        out.flush()
                        os.fsync(out.fileno())
                        state.jsonl_bytes = out.tell()
                        state.stats = self.stats.to_dict()
                        state.save(self.state_path)
                        self.pages += 1
        log.info("reddit api: %d submissions kept of %d received; %s", self.stats.n_out, self.stats.n_in,
                 self.jsonl)
        return HarvestResult(self.jsonl, self.stats, self.pages)

    def _write_page(self, children: list[Any], seen_ids: set[str], out) -> float | None:
        """Append a page's new submissions; returns the oldest creation time on the page."""
        oldest: float | None = None
        lines = []
        for child in children:
            self.stats.n_in += 1
            data = child.get("data") if isinstance(child, dict) else None
            if not isinstance(child, dict) or child.get("kind") != "t3" or not isinstance(data, dict) or not data.get("id"):
                self.stats.drop("not_a_submission")
                continue
            try:
                created = float(data.get("created_utc"))
                oldest = created if oldest is None else min(oldest, created)
            except (TypeError, ValueError):
                pass
            if not self._in_window(data.get("created_utc")):
                self.stats.drop("outside_time_window")
                continue
            if data["id"] in seen_ids:  # the same post in two listings, or moved between pages
                self.stats.drop("duplicate_submission")
                continue
            seen_ids.add(data["id"])
            lines.append(json.dumps(_dump_line(data), ensure_ascii=False).encode("utf-8") + b"\n")
            self.stats.n_out += 1
        out.write(b"".join(lines))
        return oldest


def _seconds(value: Any) -> float | None:
    """A Retry-After as seconds; None if there is none (the backoff applies)."""
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def harvest_api(config: RedditApiConfig, out_dir: Path | str, reddit=None) -> HarvestResult:
    """Harvest submissions from the live API into `<out_dir>/<harvest>/submissions.jsonl`; resumable."""
    return ApiHarvester(config, Path(out_dir), reddit).run()
