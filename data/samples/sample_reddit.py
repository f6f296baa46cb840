"""The Pushshift-style submissions dump: posts linking to the WebText pages (with reposts,
URL variants and score patterns), self posts, media, Reddit, Wikipedia and file links, the
quirks of real dumps (created_utc types, key orders, missing fields) and broken lines."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import pathlib
import random
import string
import zlib
from urllib.parse import urlsplit

import zstandard
from sample_common import (
    DUMP_END,
    DUMP_START,
    ZSTD_LEVEL,
    ZSTD_WINDOW_LOG,
    atomic_write,
    canonicalize_url,
    rand_token,
    rng_for,
)
from sample_prose import ProseGenerator, slugify, with_article
from sample_webtext import WebtextPlan

TOPIC_SUBREDDITS: dict[str, tuple[str, ...]] = {
    "energy": ("energy", "RenewableEnergy", "environment"),
    "cooking": ("Cooking", "food", "Breadit"),
    "cities": ("urbanplanning", "transit", "cities"),
    "sports": ("soccer", "running", "sports"),
    "history": ("history", "genealogy", "HistoryPorn"),
    "software": ("programming", "technology", "opensource"),
    "gardening": ("gardening", "vegetablegardening", "permaculture"),
    "music": ("Music", "listentothis", "WeAreTheMusicMakers"),
    "economics": ("Economics", "personalfinance", "economy"),
    "travel": ("travel", "solotravel", "backpacking"),
    "health": ("Health", "science", "Fitness"),
    "astronomy": ("space", "Astronomy", "astrophotography"),
    "education": ("education", "Teachers", "languagelearning"),
    "wildlife": ("nature", "wildlife", "birding"),
    "transport": ("trains", "transit", "electricvehicles"),
    "architecture": ("architecture", "urbanplanning", "HomeImprovement"),
    "books": ("books", "literature", "writing"),
    "maritime": ("sailing", "Fishing", "boats"),
    "games": ("chess", "boardgames", "gaming"),
    "climate": ("climate", "environment", "science"),
    "biology": ("biology", "science", "labrats"),
}
GENERAL_SUBREDDITS = ("news", "worldnews", "todayilearned", "TrueReddit", "UpliftingNews", "InDepthStories",
                      "Foodforthought", "DepthHub")
MEDIA_SUBREDDITS = ("pics", "aww", "gifs", "videos", "funny", "EarthPorn", "mildlyinteresting",
                    "oddlysatisfying", "interestingasfuck", "woahdude")
NSFW_SUBREDDITS = ("nsfw", "WTF", "NSFW_GIF", "MorbidReality", "medicalgore")
WIKI_ARTICLES = ("Tidal_power", "Sourdough", "Light_pollution", "Peat", "Eurasian_beaver", "Night_train",
                 "Brutalist_architecture", "Crossword", "Comet", "Heat_pump", "Allotment_(gardening)",
                 "Lifeboat_(rescue)", "Fermentation_in_food_processing", "Bus_rapid_transit", "Inflation",
                 "Supernova", "Otter", "Oyster", "Chess_opening", "Glacier", "Antibiotic", "Timber_framing",
                 "Apprenticeship", "Heatwave", "Signal_box", "Folk_music", "Marathon", "Shipwreck",
                 "Open-source_software", "Placebo")


@dataclasses.dataclass
class Submission:
    """One dump line before serialisation. ``fields`` is the JSON object."""

    created: float
    fields: dict[str, object]
    kind: str                      # article | self | media | reddit | wikipedia | file | nsfw
    canonical: str | None = None   # for article links: the page's canonical URL
    variant: str | None = None     # how the posted URL differs from the canonical one
    flags: list[str] = dataclasses.field(default_factory=list)


def sample_score(rng: random.Random) -> int:
    """A Reddit-like skewed score: about half below 3, a long tail into the thousands."""
    roll = rng.random()
    if roll < 0.07:
        return rng.choice([0, 0, 0, -1, -2, -4, -9])
    if roll < 0.48:
        return rng.choice([1, 1, 1, 2])
    if roll < 0.86:
        return int(rng.lognormvariate(2.3, 0.8)) + 3
    if roll < 0.985:
        return int(rng.uniform(60, 1000))
    return int(rng.uniform(1000, 7500))


URL_VARIANTS = ("canonical", "http", "upper_host", "port_443", "port_80", "fragment", "utm", "utm_http",
                "trailing_slash", "empty_query", "empty_fragment")


def url_variant(canonical: str, variant: str, rng: random.Random) -> str:
    """A URL as people paste it: each variant canonicalises back to ``canonical``."""
    parts = urlsplit(canonical)
    host, path, query = parts.hostname or "", parts.path, parts.query
    utm = rng.choice(["utm_source=reddit&utm_medium=social",
                      "utm_source=feedburner&utm_medium=feed&utm_campaign=Feed%3A+latest",
                      "utm_campaign=share&utm_source=twitter", "utm_medium=email&utm_source=newsletter"])
    q = f"?{query}" if query else ""
    match variant:
        case "canonical":
            return canonical
        case "http":
            return f"http://{host}{path}{q}"
        case "upper_host":
            mixed = ".".join(label.capitalize() if i else label.upper() for i, label in enumerate(host.split(".")))
            return f"https://{mixed}{path}{q}"
        case "port_443":
            return f"https://{host}:443{path}{q}"
        case "port_80":
            return f"http://{host}:80{path}{q}"
        case "fragment":
            return f"{canonical}#{rng.choice(['comments', 'section-2', 'more', 'respond', 'top'])}"
        case "utm":
            return f"{canonical}&{utm}" if query else f"{canonical}?{utm}"
        case "utm_http":
            return f"http://{host}{path}" + (f"?{query}&{utm}" if query else f"?{utm}")
        case "trailing_slash":
            return canonical if query else f"https://{host}{path}/"
        case "empty_query":
            return canonical if query else f"{canonical}?"
        case "empty_fragment":
            return f"{canonical}#"
    raise ValueError(variant)


def reddit_domain(url: str) -> str:
    """Reddit's ``domain`` field: lower-case host without a leading 'www.'."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


USER_A = ("quiet", "lazy", "happy", "grumpy", "salty", "tiny", "brave", "sleepy", "rusty", "cosmic", "wandering",
          "northern", "sneaky", "polite", "random", "honest", "electric", "humble")
USER_B = ("otter", "walrus", "kettle", "badger", "pixel", "heron", "tractor", "teapot", "falcon", "turnip",
          "lighthouse", "pancake", "moose", "ferret", "compass", "noodle", "raven", "anchor")


def username(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return "[deleted]"
    a, b = rng.choice(USER_A), rng.choice(USER_B)
    style = rng.randrange(5)
    if style == 0:
        return f"{a}_{b}"
    if style == 1:
        return f"{a.capitalize()}{b.capitalize()}{rng.randint(1, 99)}"
    if style == 2:
        return f"{b}{rng.randint(1970, 2005)}"
    if style == 3:
        return f"throwaway_{rng.randint(1000, 99999)}"
    return f"{a}-{b}-{rand_token(rng, 3, string.ascii_lowercase)}"


MEDIA_TITLES = ("My {noun} after {n} years", "Found this near {place} today", "Look at this {adj} {noun}",
                "TIL you can do this with {a_noun}", "This {noun} is older than my grandparents",
                "Saw this on my way to work", "[OC] {adj} {noun} at sunset", "Can someone explain this?",
                "Finally finished my {noun}!", "{n} hours of work, worth it", "Made this for my {relative}",
                "The view from {place} this morning", "Perfectly timed {noun}", "What is this thing?",
                "Rate my {noun}", "First attempt at {a_noun} 🙂", "So this happened… 😂",
                "Ça marche! My {noun} experiment", "Über-satisfying {noun}")
NSFW_TITLES = ("[NSFW] Graphic footage from the {place} accident", "NSFW: surgery on {a_noun} (graphic)",
               "Not for the squeamish", "[NSFW] You have been warned", "Warning: disturbing content")


def _title_fill(rng: random.Random, gen: ProseGenerator, template: str) -> str:
    topic = gen.topics[gen.random_topic(rng)]
    noun = rng.choice(topic.nouns).split("/")[0]
    return template.format(noun=noun, a_noun=with_article(noun), adj=rng.choice(topic.adjectives),
                           n=rng.randint(2, 40), place=rng.choice(["Marrowfield", "Port Ellery", "Calder Bay",
                                                                   "the lake", "my street", "the harbour"]),
                           relative=rng.choice(["mum", "dad", "sister", "grandfather", "kids"]))


def _random_time(rng: random.Random, lo: dt.datetime = DUMP_START, hi: dt.datetime = DUMP_END) -> float:
    return rng.uniform(lo.timestamp(), hi.timestamp())


def _article_submissions(plan: WebtextPlan, gen: ProseGenerator) -> list[Submission]:
    """All submissions that link to article pages, with reposts, URL variants and score patterns."""
    rng = rng_for("dump-articles")
    dump_pages = [p for p in plan.pages if p.in_dump]
    subs: list[Submission] = []
    n_pages = len(dump_pages)
    order = list(range(n_pages))
    rng.shuffle(order)
    # Pages whose every submission scores 1-2 but whose summed score is >= 3: per-submission
    # (OpenWebText) and summed (OpenWebText2) karma rules disagree on exactly these.
    sum_only = set(order[:20])
    over_18 = set(order[20:35])
    for i, page in enumerate(dump_pages):
        article = page.article
        topic = article.topic if article else "health"
        if i in sum_only:
            n_posts = rng.choice([2, 2, 3])
        else:
            n_posts = rng.choices([1, 2, 3, 4, 5, 6], [72, 14, 8, 3, 2, 1])[0]
        published = dt.datetime.combine(article.published, dt.time(8), dt.timezone.utc) if article else DUMP_START
        first = min(published.timestamp() + rng.expovariate(1 / 40000), DUMP_END.timestamp() - 3600)
        subreddits = list(TOPIC_SUBREDDITS.get(topic, ())) + list(GENERAL_SUBREDDITS)
        rng.shuffle(subreddits)
        for j in range(n_posts):
            created = first if j == 0 else min(first + rng.uniform(0.05, 200) * 86400, DUMP_END.timestamp() - 60)
            if j == 0:
                variant = "canonical" if rng.random() < 0.6 else rng.choice(URL_VARIANTS)
            else:
                variant = rng.choice(URL_VARIANTS[1:])  # a repost nearly always differs a little
            url = page.native_url if (j == 0 and variant == "canonical" and page.native_url) else page.url
            url = url_variant(url, variant, rng) if variant != "canonical" else url
            if i in sum_only:
                score = rng.choice([1, 2])
                if j == n_posts - 1:
                    score = 2
            else:
                score = sample_score(rng)
            title = article.title if article else "Annual health survey (PDF)"
            roll = rng.random()
            if roll < 0.15:
                title = f"{title} - {page.site.name}"
            elif roll < 0.22:
                title = title.lower()
            elif roll < 0.28:
                title = f"Interesting read: {title}"
            elif roll < 0.32 and article:
                title = article.summary
            fields = _base_fields(rng, created, subreddits[j % len(subreddits)], title, score)
            fields.update(url=url, domain=reddit_domain(url), is_self=False, selftext="",
                          over_18=i in over_18, thumbnail="default")
            sub = Submission(created, fields, "article", canonicalize_url(url), variant)
            if i in sum_only:
                sub.flags.append("sum_only")
            subs.append(sub)
    return subs


def _base_fields(rng: random.Random, created: float, subreddit: str, title: str, score: int) -> dict[str, object]:
    return {
        "author": username(rng),
        "subreddit": subreddit,
        "title": title,
        "score": score,
        "num_comments": max(0, int(abs(score) * rng.uniform(0.05, 0.9)) + rng.randint(0, 3)),
        "created_utc": created,
        "gilded": 1 if score > 800 and rng.random() < 0.3 else 0,
        "stickied": False,
        "edited": False if rng.random() < 0.9 else int(created + rng.randint(60, 86400)),
        "distinguished": None,
        "link_flair_text": rng.choice([None, None, None, "Discussion", "News", "Article", "OC"]),
        "retrieved_on": int(created + rng.randint(86400, 86400 * 60)),
    }


def _other_submissions(gen: ProseGenerator, plan: WebtextPlan) -> list[Submission]:
    """Self posts, images/videos, links to Reddit and Wikipedia, file links and NSFW posts."""
    rng = rng_for("dump-other")
    subs: list[Submission] = []
    topic_keys = gen.topic_keys

    for _ in range(850):  # self posts
        topic = rng.choice(topic_keys)
        sub = rng.choice(TOPIC_SUBREDDITS[topic] + ("AskReddit", "NoStupidQuestions", "CasualConversation"))
        created = _random_time(rng)
        title = gen.title(rng, topic) if rng.random() < 0.3 else _title_fill(rng, gen, rng.choice(
            ("Question about {noun}", "Advice needed: my {noun}", "What is your favourite {noun}?",
             "Does anyone else love {adj} things?", "ELI5: why is {a_noun} so hard?", "Weekly discussion thread",
             "Help! {noun} problem", "Thoughts on {noun}?")))
        body = gen.self_post(rng, topic)
        if rng.random() < 0.06:
            body = rng.choice(["[deleted]", "[removed]"])
        fields = _base_fields(rng, created, sub, title, sample_score(rng))
        fields.update(is_self=True, selftext=body, over_18=False, thumbnail="self", domain=f"self.{sub}")
        subs.append(Submission(created, fields, "self"))

    hosts = [s.host for s in plan.sites]
    for _ in range(760):  # images, gifs and videos
        created = _random_time(rng)
        kind = rng.choices(["imgur_img", "imgur_page", "imgur_album", "ireddit", "vreddit", "youtube", "youtu.be",
                            "gfycat", "mp4"], [20, 6, 4, 18, 8, 16, 4, 5, 3])[0]
        token = rand_token(rng, 7)
        if kind == "imgur_img":
            url = f"https://i.imgur.com/{token}{rng.choice(['.jpg', '.jpg', '.png', '.gif', '.gifv'])}"
        elif kind == "imgur_page":
            url = f"http://imgur.com/{token}"
        elif kind == "imgur_album":
            url = f"https://imgur.com/a/{token[:5]}"
        elif kind == "ireddit":
            url = f"https://i.redd.it/{rand_token(rng, 13, string.ascii_lowercase + string.digits)}{rng.choice(['.jpg', '.png', '.gif'])}"
        elif kind == "vreddit":
            url = f"https://v.redd.it/{rand_token(rng, 13, string.ascii_lowercase + string.digits)}"
        elif kind == "youtube":
            url = f"https://www.youtube.com/watch?v={rand_token(rng, 11, string.ascii_letters + string.digits + '-_')}"
            if rng.random() < 0.2:
                url += f"&t={rng.randint(5, 600)}s"
        elif kind == "youtu.be":
            url = f"https://youtu.be/{rand_token(rng, 11, string.ascii_letters + string.digits + '-_')}"
        elif kind == "gfycat":
            url = "https://gfycat.com/" + "".join(w.capitalize() for w in rng.sample(USER_A + USER_B, 3))
        else:
            url = f"https://media.{rng.choice(hosts).removeprefix('www.')}/clips/{token.lower()}.mp4"
        title = _title_fill(rng, gen, rng.choice(MEDIA_TITLES))
        fields = _base_fields(rng, created, rng.choice(MEDIA_SUBREDDITS), title, sample_score(rng))
        fields.update(url=url, domain=reddit_domain(url), is_self=False, selftext="", over_18=False,
                      thumbnail=f"https://b.thumbs.redditmedia.com/{rand_token(rng, 43)}.jpg",
                      post_hint="image" if kind in ("imgur_img", "ireddit") else "link")
        subs.append(Submission(created, fields, "media"))

    for _ in range(60):  # NSFW media
        created = _random_time(rng)
        url = rng.choice([f"https://i.imgur.com/{rand_token(rng, 7)}.jpg",
                          f"https://i.redd.it/{rand_token(rng, 13, string.ascii_lowercase + string.digits)}.png",
                          f"https://gfycat.com/{''.join(w.capitalize() for w in rng.sample(USER_B, 3))}"])
        fields = _base_fields(rng, created, rng.choice(NSFW_SUBREDDITS), _title_fill(rng, gen, rng.choice(NSFW_TITLES)),
                              sample_score(rng))
        fields.update(url=url, domain=reddit_domain(url), is_self=False, selftext="", over_18=True, thumbnail="nsfw")
        subs.append(Submission(created, fields, "nsfw"))

    for _ in range(150):  # links to reddit itself
        created = _random_time(rng)
        sub = rng.choice(sorted({s for v in TOPIC_SUBREDDITS.values() for s in v}))
        rid = _base36(rng.randint(170_000_000, 460_000_000))
        url = rng.choice([
            f"https://www.reddit.com/r/{sub}/comments/{rid}/{slugify(gen.title(rng), 6).replace('-', '_')}/",
            f"http://www.reddit.com/r/{sub}",
            f"https://np.reddit.com/r/{sub}/comments/{rid}/",
            f"https://www.reddit.com/r/{sub}/wiki/index",
            f"https://redd.it/{rid}",
        ])
        fields = _base_fields(rng, created, rng.choice(("SubredditDrama", "bestof", "NewSubs", "DepthHub", sub)),
                              rng.choice(["Interesting discussion over in r/" + sub, "Great explanation of " + gen.title(rng),
                                          "r/" + sub + " is having a moment", "This thread is gold"]),
                              sample_score(rng))
        fields.update(url=url, domain=reddit_domain(url), is_self=False, selftext="", over_18=False)
        subs.append(Submission(created, fields, "reddit"))

    for _ in range(120):  # Wikipedia (removed from WebText: test-set overlap)
        created = _random_time(rng)
        page = rng.choice(WIKI_ARTICLES)
        url = rng.choice([f"https://en.wikipedia.org/wiki/{page}", f"http://en.wikipedia.org/wiki/{page}",
                          f"https://en.m.wikipedia.org/wiki/{page}", f"https://en.wikipedia.org/wiki/{page}#History"])
        fields = _base_fields(rng, created, rng.choice(("todayilearned", "wikipedia", "interestingasfuck")),
                              f"TIL about {page.replace('_', ' ').split(' (')[0].lower()}", sample_score(rng))
        fields.update(url=url, domain=reddit_domain(url), is_self=False, selftext="", over_18=False)
        subs.append(Submission(created, fields, "wikipedia"))

    for _ in range(40):  # links to files on article hosts (extension blocklist)
        created = _random_time(rng)
        host = rng.choice(hosts)
        ext = rng.choice([".pdf", ".pdf", ".zip", ".mp3", ".xlsx", ".PDF"])
        url = f"https://{host}/files/{slugify(gen.title(rng), 5)}{ext}"
        fields = _base_fields(rng, created, rng.choice(GENERAL_SUBREDDITS), gen.title(rng) + f" [{ext[1:].upper()}]",
                              sample_score(rng))
        fields.update(url=url, domain=reddit_domain(url), is_self=False, selftext="", over_18=False)
        subs.append(Submission(created, fields, "file"))
    return subs


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


# Key orders: 2015-era lines come in an arbitrary but fixed order (as in the older dumps);
# later lines are alphabetical (as in the newer ones).
LEGACY_KEY_ORDER = ("gilded", "name", "link_flair_text", "id", "archived", "num_comments", "over_18", "is_self",
                    "author", "stickied", "url", "created", "subreddit_id", "score", "edited", "domain",
                    "hide_score", "created_utc", "subreddit", "title", "downs", "thumbnail", "distinguished",
                    "permalink", "ups", "retrieved_on", "selftext", "media", "quarantine", "post_hint")


def finalise_submissions(subs: list[Submission]) -> list[Submission]:
    """Give every submission ids, permalinks and the dump-era quirks, sorted by time."""
    rng = rng_for("dump-finalise")
    subs.sort(key=lambda s: (s.created, str(s.fields["title"])))
    t0, t1 = DUMP_START.timestamp(), DUMP_END.timestamp()
    last_id = 0
    for sub in subs:
        f = sub.fields
        id_num = int(170_000_000 + (sub.created - t0) / (t1 - t0) * 290_000_000)
        id_num = max(id_num, last_id + rng.randint(1, 40))
        last_id = id_num
        rid = _base36(id_num)
        slug = "_".join(slugify(str(f["title"]), 8).split("-"))[:50] or "post"
        permalink = f"/r/{f['subreddit']}/comments/{rid}/{slug}/"
        year = dt.datetime.fromtimestamp(sub.created, dt.timezone.utc).year
        f.update(id=rid, name=f"t3_{rid}", permalink=permalink,
                 subreddit_id=f"t5_{_base36(abs(zlib.crc32(str(f['subreddit']).encode())) % 10_000_000)}",
                 downs=0, ups=f["score"], archived=year < 2017, hide_score=False, quarantine=False, media=None)
        if f.get("is_self"):
            scheme = "http" if year < 2016 else "https"
            f["url"] = f"{scheme}://www.reddit.com{permalink}"
        # created_utc came as a string in the older dumps, int later and float in newer ones.
        created_int = int(sub.created)
        roll = rng.random()
        if year == 2015:
            f["created_utc"] = str(created_int) if roll < 0.7 else (created_int if roll < 0.95 else float(created_int))
        elif year == 2016:
            f["created_utc"] = created_int if roll < 0.85 else (str(created_int) if roll < 0.9 else float(created_int))
        else:
            f["created_utc"] = created_int if roll < 0.7 else float(created_int)
        f["created"] = created_int + 28800  # the old API's local-time field, kept for realism
    return subs


def apply_missing_fields(subs: list[Submission]) -> None:
    """Drop fields from a few lines, as partial or later-edited dump lines do."""
    rng = rng_for("dump-missing")
    # Only pages posted more than once lose fields, and never their URL on every line, so every
    # page of the dump stays reachable.
    counts: dict[str | None, int] = {}
    for s in subs:
        counts[s.canonical] = counts.get(s.canonical, 0) + 1
    # Pages whose karma only passes when summed keep all their scores and URLs intact.
    articles = [s for s in subs if s.kind == "article" and counts[s.canonical] > 1 and "sum_only" not in s.flags]
    others = [s for s in subs if s.kind != "article"]
    lost_url: set[str | None] = set()
    for field, n_article, n_other in (("score", 6, 6), ("url", 4, 4), ("is_self", 5, 5), ("over_18", 5, 5)):
        picks: list[Submission] = []
        for sub in rng.sample(articles, len(articles)):
            if len(picks) == n_article:
                break
            if field == "url" and sub.canonical in lost_url:
                continue  # never take the URL away from every submission of a page
            picks.append(sub)
            if field == "url":
                lost_url.add(sub.canonical)
        for sub in picks + rng.sample(others, n_other):
            if field in sub.fields:
                del sub.fields[field]
                if field == "score":
                    sub.fields.pop("ups", None)
                sub.flags.append(f"missing_{field}")


def serialise_submission(sub: Submission) -> bytes:
    f = sub.fields
    year = dt.datetime.fromtimestamp(sub.created, dt.timezone.utc).year
    if year == 2015:
        keys = [k for k in LEGACY_KEY_ORDER if k in f] + sorted(k for k in f if k not in LEGACY_KEY_ORDER)
        return json.dumps({k: f[k] for k in keys}, ensure_ascii=True).encode("utf-8")
    return json.dumps({k: f[k] for k in sorted(f)}, ensure_ascii=False).encode("utf-8")


BROKEN_LINE_KINDS = ("truncated_json", "truncated_json", "truncated_json", "empty", "whitespace",
                     "json_array", "json_null", "json_string", "invalid_utf8_in_json", "binary_garbage")


def build_dump_lines(gen: ProseGenerator, plan: WebtextPlan) -> tuple[list[bytes], list[Submission], list[dict[str, object]]]:
    """All dump lines (bytes, without newline), the submissions, and where the broken lines are."""
    subs = finalise_submissions(_article_submissions(plan, gen) + _other_submissions(gen, plan))
    apply_missing_fields(subs)
    good = [serialise_submission(s) for s in subs]
    rows: list[tuple[bytes, str | None]] = [(line, None) for line in good]
    rng = rng_for("dump-broken")
    positions = sorted(rng.sample(range(1, len(good)), len(BROKEN_LINE_KINDS)), reverse=True)
    for pos, kind in zip(positions, BROKEN_LINE_KINDS):
        donor = good[rng.randrange(len(good))]
        match kind:
            case "truncated_json":
                bad = donor[: len(donor) * 3 // 5]
            case "empty":
                bad = b""
            case "whitespace":
                bad = b"   \t"
            case "json_array":
                bad = b"[1,2]"
            case "json_null":
                bad = b"null"
            case "json_string":
                bad = b'"just a string"'
            case "invalid_utf8_in_json":
                obj = json.dumps({"id": "zz" + _base36(pos), "subreddit": "test", "title": "PLACEHOLDER",
                                  "score": 5, "created_utc": 1480000000, "url": "https://www.harborgazette.com/",
                                  "over_18": False, "is_self": False}).encode()
                bad = obj.replace(b"PLACEHOLDER", b"caf\xe9 \xff\xfe broken bytes")
            case _:
                bad = b"\x80\x81\x82 not json at all \xc3\x28\xa0\xa1"
        rows.insert(pos, (bad, kind))
    lines = [line for line, _ in rows]
    # 1-based line numbers, as an error message for the dump would report them.
    broken = [{"line": i + 1, "kind": kind} for i, (_, kind) in enumerate(rows) if kind]
    return lines, subs, broken


def _is_valid_submission_line(line: bytes) -> bool:
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(obj, dict)


def write_submissions_dump(path: pathlib.Path, lines: list[bytes]) -> pathlib.Path:
    """zstd-compressed NDJSON, one submission per line, like Pushshift's RS_YYYY-MM.zst."""
    params = zstandard.ZstdCompressionParameters.from_level(ZSTD_LEVEL, window_log=ZSTD_WINDOW_LOG)
    buf = io.BytesIO()
    # Streaming without a known size keeps the 2**28 window in the frame header (see ZSTD_WINDOW_LOG).
    with zstandard.ZstdCompressor(compression_params=params).stream_writer(buf, closefd=False) as writer:
        for line in lines:
            writer.write(line + b"\n")
    atomic_write(path, buf.getvalue())
    return path
