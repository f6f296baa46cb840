"""Wikitext markup -> plain text, on mwparserfromhell (its C tokenizer): of the two maintained
parsers it is the faster one with the same rules and the same output (bench/bench_wikitext.py on
71 real articles: 143-158 pages/s against wikitextparser's 88-100, word F1 between the outputs 0.999).

What a reader of the rendered page reads is kept, what only decorates or cites it is dropped:

- kept: prose; link text (`[[A|b]]` -> b, `[[A]]` -> A); external link labels; bold/italic text
  without the quotes; list items, one per line; headings as lines of their own ("History");
  `<math>`/`<chem>` as their TeX source (a model learns TeX from it; dropping it leaves "the
  formula  is"); code and poems line by line; HTML entities unescaped;
- dropped: templates (infoboxes, navboxes, citations, nested ones) except a few that print words
  inline (`{{lang}}`, `{{nowrap}}`, `{{convert}}`, dates, quotes, ... see `inline_template`); tables
  (`{| ... |}` and `<table>`); `<ref>` and `<references/>`; comments; galleries and other
  extension tags; file, image, category and interlanguage links; bare `[http://x]` links (rendered
  as "[1]"); magic words (`__TOC__`); template parameters (`{{{1}}}`);
- dropped sections, by title (with their subsections): References, Notes, Footnotes, Citations,
  Sources, Bibliography, Works cited, See also, External links, Further reading, their usual
  combinations, and the same on the German, French, Spanish and Italian Wikipedias
  (`DROPPED_SECTIONS`); a heading whose section is left with no text goes too.

Layout: paragraphs separated by one blank line, headings and lists as their own blocks, a single
newline inside a paragraph read as a space (as MediaWiki renders it), runs of spaces collapsed,
the spaces that removed references leave before punctuation and in "( ; ...)" taken out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# Marks in the text the walker builds, read by `assemble`: a hard line break (a list item, a
# `<br>`, a line of a poem) and the start of a heading line ("\x03" + level + "\x03" + title).
# Control characters never survive `prepare`, so they cannot come from the page.
HARD_BREAK = "\x02"
HEADING_MARK = "\x03"

DROPPED_SECTIONS = frozenset({
    "references", "notes", "footnotes", "citations", "sources", "bibliography", "works cited",
    "notes and references", "references and notes", "notes and citations", "citations and notes",
    "notes and sources", "sources and notes", "references and sources", "sources and references",
    "see also", "external links", "further reading", "external links and further reading",
    "further reading and external links", "references and further reading", "other websites",
    # the same sections on the German, French, Spanish and Italian Wikipedias
    "einzelnachweise", "anmerkungen", "weblinks", "literatur", "siehe auch", "quellen",
    "références", "notes et références", "liens externes", "voir aussi", "bibliographie",
    "referencias", "notas", "enlaces externos", "véase también", "bibliografía",
    "note", "bibliografia", "voci correlate", "collegamenti esterni", "altri progetti",
})
# Tags whose contents are not text a reader reads as prose.
DROPPED_TAGS = frozenset({
    "ref", "references", "gallery", "timeline", "graph", "mapframe", "maplink", "templatestyles",
    "templatedata", "imagemap", "score", "categorytree", "indicator", "inputbox", "hiero", "section",
    "table", "style", "script", "includeonly", "charinsert", "noinclude",
})
TEX_TAGS = frozenset({"math", "chem", "ce"})
VERBATIM_TAGS = frozenset({"pre", "poem", "syntaxhighlight", "source"})  # their newlines are kept
LIST_TAGS = frozenset({"li", "dt", "dd"})
# Link prefixes whose links show nothing in the text (local names, e.g. "Datei", come from the
# dump's siteinfo: see `corpus.sources.wikipedia.SiteInfo.hidden_link_prefixes`).
HIDDEN_LINK_PREFIXES = frozenset({"file", "image", "media", "category",
                                  "bild", "fichier", "archivo", "imagen", "immagine"})  # aliases siteinfo omits
# Interwiki prefixes that link inline ([[wikt:word]]); any other language-code-like prefix is an
# interlanguage link, shown in the sidebar and not in the text.
_INLINE_INTERWIKI = frozenset({"w", "wikt", "wiktionary", "s", "wikisource", "b", "wikibooks", "q",
                               "wikiquote", "n", "wikinews", "v", "wikiversity", "voy", "c", "commons",
                               "m", "meta", "d", "species", "mw", "doi", "iso", "rfc"})
_LANGUAGE_PREFIX = re.compile(r"(?:[a-z]{2,3}(?:-[a-z0-9]{2,8}){0,2}|simple|be-tarask)\Z")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)  # an unclosed comment runs to the end (as rendered)
_REF_EMPTY = re.compile(r"<ref(?:\s[^>]*?)?/\s*>", re.I)
_REF_PAIR = re.compile(r"<ref(?:\s[^>]*)?>.*?</ref\s*>", re.I | re.S)
_INDENTED_TABLE = re.compile(r"^[:*#]+[ \t]*(?=\{\|)", re.M)  # ":{|" renders a table too; the parser wants "{|"
_MAGIC_WORD = re.compile(r"__[A-ZÀ-Þ][A-ZÀ-Þ_]*__")
_SPACES = re.compile(r"[^\S\n]+")
_SPACE_BEFORE_PUNCT = re.compile(r" +(?=[,.;:!?](?:\s|$)|\))|(?<=\() +")
_EMPTY_PAREN_START = re.compile(r"\((?:\s*[,;:])+\s*")
_EMPTY_PAREN_END = re.compile(r"(?:\s*[,;:])+\s*\)")
_EMPTY_PARENS = re.compile(r" ?\(\s*\)")
# Bold/italic quotes the parser left as text (unbalanced): "The ''Star'''s" renders "The Star's".
_STRAY_QUOTES = re.compile(r"(?P<apostrophe>(?<=\w)'''(?=\w))|'{2,}")
_DANGLING_COMMA = re.compile(r"[,;](?=[.!?])")  # "such as X, [[fr:Y]]." loses Y, not the full stop
_TEMPLATE_NAME = re.compile(r"\{\{\s*([^{}|\n]*?)\s*(?:\||\}\})")
# Cleanup tags that articles carry: "[disambiguation needed]" after a link, an ambiguous title.
_NOT_DISAMBIGUATION = frozenset({"disambiguation needed", "incomplete disambiguation"})
_DISAMBIGUATION_NAMES = frozenset({"dab", "disamb", "disambig", "hndis", "geodis", "numberdis",
                                   "schooldis", "hospitaldis", "mathdab", "roaddis",
                                   "begriffsklärung", "homonymie", "desambiguación"})  # de, fr, es


def prepare(markup: str) -> str:
    """The markup with control characters, comments and references taken out before parsing
    (and indented tables, `:{|`, unindented, so that the parser sees them as tables).

    References are often a third of an article's markup and nest templates in turn; cutting them
    with two regular expressions (self-closing first, so that `<ref name=a/>` never opens a pair)
    makes the parse that follows about a third faster; cutting tables (`_cut_tables`) halves it
    again. Both parsers are benchmarked on this.
    """
    markup = _CONTROL.sub("", markup)
    if "<!--" in markup:
        markup = _COMMENT.sub("", markup)
    if "<ref" in markup or "<REF" in markup:
        markup = _REF_PAIR.sub("", _REF_EMPTY.sub("", markup))
    if "{|" in markup:
        markup = _cut_tables(_INDENTED_TABLE.sub("", markup))
    return markup


def _cut_tables(markup: str) -> str:
    """The markup without its tables that stand outside templates.

    Tables are a sixth of an article's markup and half of mwparserfromhell's parse time. A table
    here runs from a line starting "{|" to the line "|}" that closes it (nested tables counted);
    it is cut only when it starts outside any template and its "{{" and "}}" balance, so that no
    template can end inside it. Any other table is left to the parser, which drops it as well.
    """
    lines = markup.split("\n")
    out: list[str] = []
    depth = 0  # templates open at the start of line i (approximate: "{{" minus "}}" so far)
    i = 0
    while i < len(lines):
        line = lines[i]
        if depth == 0 and line.lstrip().startswith("{|"):
            end = _table_end(lines, i)
            if end is not None:
                out.append("")
                i = end + 1
                continue
        out.append(line)
        if "{{" in line or "}}" in line:
            depth = max(0, depth + line.count("{{") - line.count("}}"))
        i += 1
    return "\n".join(out)


def _table_end(lines: list[str], start: int) -> int | None:
    """The index of the line "|}" that closes the table opened at `start`, if the table's braces
    balance; else None."""
    tables = braces = 0
    for j in range(start, len(lines)):
        line = lines[j].strip()
        if line.startswith("{|"):
            tables += 1
        elif line.startswith("|}"):
            tables -= 1
            if tables == 0:
                return j if line == "|}" and braces == 0 else None
        if "{{" in line or "}}" in line:
            braces += line.count("{{") - line.count("}}")
    return None


def is_disambiguation(markup: str) -> bool:
    """Whether a page is a disambiguation page: it uses {{disambiguation}}, one of its names
    ({{disambig}}, {{dab}}, {{hndis}}, {{geodis}}, ...) or a "... disambiguation" variant
    ({{human name disambiguation}}), in any case, the German, French and Spanish names, or the
    `__DISAMBIG__` switch."""
    if "__DISAMBIG__" in markup:
        return True
    for name in _TEMPLATE_NAME.findall(markup):
        name = name.replace("_", " ").strip().lower()
        if name in _DISAMBIGUATION_NAMES or (
                (name.startswith("disambig") or name.endswith("disambiguation")) and name not in _NOT_DISAMBIGUATION):
            return True
    return False


def wikitext_to_text(markup: str, headings: bool = True,
                     hidden_link_prefixes: Iterable[str] = HIDDEN_LINK_PREFIXES) -> str:
    """The plain text of one page's wikitext (see the module docstring for what is kept).

    `headings=False` leaves headings out (their sections are still dropped by title);
    `hidden_link_prefixes` names the link namespaces that show nothing (lower case, without the
    colon): files, images, categories, in English and in the wiki's own language.
    """
    import mwparserfromhell

    walker = _Walker(frozenset(p.lower() for p in hidden_link_prefixes))
    walker.nodes(mwparserfromhell.parse(prepare(markup)))
    return assemble("".join(walker.out), headings)


def is_hidden_link(title: str, hidden_link_prefixes: frozenset[str] = HIDDEN_LINK_PREFIXES) -> bool:
    """Whether a wikilink to `title` shows nothing in the text: a file, image or category link
    (`hidden_link_prefixes`), or an interlanguage link ([[de:Berlin]]). [[:Category:X]], with its
    leading colon, is an ordinary visible link."""
    if ":" not in title or title.startswith(":"):
        return False
    prefix = title.split(":", 1)[0].strip()
    # Interlanguage links are written in lower case ([[de:Berlin]]); a title never starts so.
    return prefix.lower() in hidden_link_prefixes or (
        _LANGUAGE_PREFIX.match(prefix) is not None and prefix not in _INLINE_INTERWIKI)


def inline_template(name: str) -> Callable[[list[str], Callable[[str], str]], str] | None:
    """How a template that prints words inline renders (from its positional arguments, as text,
    and a lookup of its named ones), or None for a template whose output is dropped."""
    name = " ".join(name.replace("_", " ").split()).lower()
    return _TEMPLATE_TEXT.get(name) or (_first if name.startswith("lang-") else None)


class _Walker:
    """Renders mwparserfromhell nodes into `out`: text with `HARD_BREAK` and `HEADING_MARK`."""

    def __init__(self, hidden_link_prefixes: frozenset[str]) -> None:
        from mwparserfromhell import nodes

        self.hidden = hidden_link_prefixes
        self.out: list[str] = []
        self.dispatch = {
            nodes.Text: self.text, nodes.Wikilink: self.wikilink, nodes.Tag: self.tag,
            nodes.Template: self.template, nodes.ExternalLink: self.external_link,
            nodes.HTMLEntity: self.entity, nodes.Heading: self.heading,
        }  # Comment, Argument: nothing

    def node(self, node) -> None:
        render = self.dispatch.get(type(node))
        if render is not None:
            render(node)

    def nodes(self, code) -> None:
        if code is not None:
            for node in code.nodes:
                self.node(node)

    def render(self, code) -> str:
        """`code` rendered on its own (a template argument, a heading title)."""
        outer, self.out = self.out, []
        try:
            self.nodes(code)
            return "".join(self.out)
        finally:
            self.out = outer

    def text(self, node) -> None:
        self.out.append(node.value)

    def entity(self, node) -> None:
        try:
            self.out.append(node.normalize())
        except (ValueError, OverflowError):  # &#99999999; and the like: what the page shows
            self.out.append(str(node))

    def heading(self, node) -> None:
        title = " ".join(self.render(node.title).replace(HARD_BREAK, " ").split())
        self.out.append(f"\n{HEADING_MARK}{node.level}{HEADING_MARK}{title}\n")

    def wikilink(self, node) -> None:
        title = str(node.title).strip()
        if is_hidden_link(title, self.hidden):
            return
        if node.text is not None:
            self.nodes(node.text)
        else:
            self.out.append(title.removeprefix(":").replace("_", " "))

    def external_link(self, node) -> None:
        if not node.brackets:
            self.out.append(str(node.url))
        elif node.title is not None:
            self.nodes(node.title)

    def tag(self, node) -> None:
        name = str(node.tag).strip().lower()
        if name in LIST_TAGS:
            self.out.append(HARD_BREAK)
            self.nodes(node.contents if not node.self_closing else None)
        elif name in DROPPED_TAGS:
            return
        elif name == "br":
            self.out.append(HARD_BREAK)
        elif name == "hr":
            self.out.append("\n\n")
        elif name in TEX_TAGS:
            self.out.append(" ".join(str(node.contents or "").split()))
        elif name in VERBATIM_TAGS:
            self.out.append(self.render(node.contents).strip("\n").replace("\n", HARD_BREAK))
        elif not node.self_closing:
            self.nodes(node.contents)

    def template(self, node) -> None:
        to_text = inline_template(str(node.name))
        if to_text is None:
            return
        positional = [self.render(p.value).strip() for p in node.params if not p.showkey]
        named = {str(p.name).strip(): p for p in node.params if p.showkey}
        self.out.append(to_text(positional, lambda key: self.render(named[key].value).strip()
                                if key in named else ""))


# -- the few templates whose words are part of the sentence ---------------------------------

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_RANGE_WORDS = {"-": "–", "–": "–", "to": " to ", "and": " and ", "or": " or ", "x": " × ", "by": " by "}


def _first(pos: list[str], named) -> str:
    return pos[0] if pos else named("text")


def _last(pos: list[str], named) -> str:
    return pos[-1] if pos else ""


def _second(pos: list[str], named) -> str:
    return pos[1] if len(pos) > 1 else named("text")


def _quote(pos: list[str], named) -> str:
    text = named("text") or named("quote") or (pos[0] if pos else "")
    return f"\n\n{text}\n\n" if text else ""


def _convert(pos: list[str], named) -> str:
    """{{convert|5|km|mi}} -> "5 km"; {{convert|5|-|10|km}} -> "5–10 km"."""
    if len(pos) >= 4 and pos[1] in _RANGE_WORDS:
        return f"{pos[0]}{_RANGE_WORDS[pos[1]]}{pos[2]} {pos[3]}"
    return " ".join(pos[:2])


def _frac(pos: list[str], named) -> str:
    if len(pos) >= 3:
        return f"{pos[0]} {pos[1]}/{pos[2]}"
    return "/".join(pos[:2]) if len(pos) == 2 else f"1/{pos[0]}" if pos else ""


def _date(pos: list[str], named) -> str:
    """{{birth date|1960|5|3}} -> "May 3, 1960" ("3 May 1960" with df=y); year and month alone too."""
    parts = [p for p in pos[:3] if p.isdigit()]
    if not parts:
        return pos[0] if pos else ""
    year = parts[0]
    month = _MONTHS[int(parts[1]) - 1] if len(parts) > 1 and 1 <= int(parts[1]) <= 12 else None
    if month is None:
        return year
    if len(parts) < 3:
        return f"{month} {year}"
    day = str(int(parts[2]))
    return f"{day} {month} {year}" if named("df").lower() in ("y", "yes", "1") else f"{month} {day}, {year}"


def _as_of(pos: list[str], named) -> str:
    return "As of " + _date(pos, named) if pos else ""


def _constant(text: str):
    return lambda pos, named: text


_TEMPLATE_TEXT = {
    **dict.fromkeys(("nowrap", "nobr", "nobreak", "small", "smaller", "big", "larger", "em", "strong",
                     "smallcaps", "sc", "sc1", "sic", "abbr", "nihongo", "keypress", "mono",
                     "code", "var", "math", "mvar", "tooltip", "h:title", "visible anchor"), _first),
    **dict.fromkeys(("lang", "langx"), _second),
    **dict.fromkeys(("transl", "transliteration"), _last),
    **dict.fromkeys(("quote", "blockquote", "cquote", "quotation", "quote box"), _quote),
    **dict.fromkeys(("convert", "cvt"), _convert),
    **dict.fromkeys(("birth date", "death date", "birth date and age", "death date and age", "start date",
                     "end date", "start date and age", "film date", "dob", "bda"), _date),
    "frac": _frac, "sfrac": _frac, "as of": _as_of,
    "circa": lambda pos, named: ("c. " + pos[0]) if pos else "c.",
    "'": _constant("'"), "'s": _constant("'s"), "snd": _constant(" – "), "spaced ndash": _constant(" – "),
    "ndash": _constant("–"), "mdash": _constant("—"), "nbsp": _constant(" "), "-": _constant(""),
}


# -- layout --------------------------------------------------------------------------------


def assemble(marked: str, headings: bool = True) -> str:
    """The final text of a rendered page (`marked`: text with `HARD_BREAK` and `HEADING_MARK`).

    Blocks (paragraphs, lists, headings) are separated by one blank line; a blank line in the
    markup ends a paragraph, a single newline within one is a space (MediaWiki's rendering) but
    ends a list item. Sections named in `DROPPED_SECTIONS` go with their subsections (done here,
    on the rendered headings, because an unbalanced '' can make the parser nest the headings that
    follow it inside a tag), and so do headings whose sections hold no text.
    """
    blocks: list[tuple[int, str]] = []  # (heading level, or 0 for text; the text)
    lines: list[str] = []
    after_list_item = False

    def end_paragraph() -> None:
        text = _clean(HARD_BREAK.join(lines))
        if text:
            blocks.append((0, text))
        lines.clear()

    for line in marked.split("\n"):
        if line.startswith(HEADING_MARK):
            end_paragraph()
            _, level, title = line.split(HEADING_MARK, 2)
            blocks.append((int(level), " ".join(title.split())))
            after_list_item = False
        elif not line.strip():
            end_paragraph()
            after_list_item = False
        elif line.startswith(HARD_BREAK) or after_list_item or not lines:
            lines.append(line)
            after_list_item = line.startswith(HARD_BREAK)
        else:  # prose continuing the paragraph's last line
            lines[-1] += " " + line
    end_paragraph()
    blocks = _without_empty_sections(_without_dropped_sections(blocks))
    return "\n\n".join(text for level, text in blocks if level == 0 or headings)


def _without_dropped_sections(blocks: list[tuple[int, str]]) -> list[tuple[int, str]]:
    out, skip_below = [], 0
    for level, text in blocks:
        if level:
            if skip_below and level > skip_below:
                continue
            skip_below = 0
            if " ".join(text.replace("&", "and").split()).lower().rstrip(":") in DROPPED_SECTIONS:
                skip_below = level
                continue
        elif skip_below:
            continue
        out.append((level, text))
    return out


def _without_empty_sections(blocks: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The blocks without the headings that no text follows before the next heading of their
    level or higher (one pass from the end: `text_below[l]` says whether a section of level `l`
    starting here would hold text)."""
    text_below = [False] * 8
    kept = []
    for level, text in reversed(blocks):
        if level == 0:
            text_below = [True] * 8
            kept.append((level, text))
            continue
        level = min(level, 7)
        if text_below[level] and text:
            kept.append((level, text))
        text_below[level:] = [False] * (8 - level)  # a heading ends the sections of its level and below
    return kept[::-1]


def _clean(paragraph: str) -> str:
    """One paragraph's lines (joined by `HARD_BREAK`): magic words out, spaces collapsed, the
    leftovers of removed references and templates ("( ; born 1960)", "word .") tidied."""
    paragraph = _MAGIC_WORD.sub("", paragraph)
    if "''" in paragraph:
        paragraph = _STRAY_QUOTES.sub(lambda m: "'" if m.group("apostrophe") else "", paragraph)
    out = []
    for line in paragraph.split(HARD_BREAK):
        line = _SPACES.sub(" ", line).strip()
        if "(" in line:
            line = _EMPTY_PARENS.sub("", _EMPTY_PAREN_END.sub(")", _EMPTY_PAREN_START.sub("(", line)))
        line = _SPACE_BEFORE_PUNCT.sub("", line)
        if "," in line or ";" in line:
            line = _DANGLING_COMMA.sub("", line)
        if line:
            out.append(line)
    return "\n".join(out)
