"""Low-quality and non-English pages for the synthetic Common Crawl shard.

A raw crawl is mostly not prose: navigation shells, keyword-stuffed spam, template filler,
shop listings and pages in other languages. These generators produce each kind so that the
filters (C4 / Gopher / FineWeb rules, language ID) and the GPT-3 quality classifier have
something realistic to reject. All text was written for this project; the "lorem ipsum"
filler is the customary placeholder vocabulary, recombined at random.

Every function takes a seeded ``random.Random`` and returns a complete HTML document.
"""

from __future__ import annotations

import html
import random

from sample_html import COOKIE_NOTICES, Site, esc

# --------------------------------------------------------------------------------------
# Boilerplate-heavy pages (navigation, link lists, short lines, widgets)
# --------------------------------------------------------------------------------------

NAV_WORDS = ("Home", "About", "About Us", "Contact", "Blog", "News", "Events", "Shop", "Gallery", "FAQ",
             "Services", "Portfolio", "Careers", "Support", "Login", "Register", "Sitemap", "Archives",
             "Downloads", "Members", "Forum", "Press", "Partners", "Help")
WIDGET_LINES = ("Posted in Uncategorized", "Leave a comment", "Read more »", "Continue reading →",
                "Share this:", "Like this:", "Loading...", "Related", "Tags:", "Categories",
                "Recent Posts", "Recent Comments", "Archives", "Meta", "Log in", "Entries feed",
                "Comments feed", "Search for:", "Follow us", "Back to top", "Powered by WordPress",
                "Skip to content", "Toggle navigation", "Previous post", "Next post", "Subscribe",
                "Print this page", "Page 1 of 12", "« Older Entries", "Newer Entries »",
                "Click here to download", "Terms and Conditions", "All rights reserved.")
CATEGORY_WORDS = ("Uncategorized", "News", "Updates", "Photos", "Events", "Family", "Travel", "Recipes",
                  "Reviews", "Tips", "Garden", "Music", "Sports", "Local", "Tech", "DIY", "Health", "Misc")


def boilerplate_page(site: Site, rng: random.Random, teaser: list[str] | None = None) -> str:
    """Mostly menus, lists of links, widgets and one-line fragments; at most a teaser or two."""
    nav = " | ".join(f'<a href="/{w.lower().replace(" ", "-")}">{w}</a>' for w in rng.sample(NAV_WORDS, rng.randint(4, 9)))
    blocks = [f'<div class="topbar">{nav}</div>',
              f'<div class="cookie">{esc(rng.choice(COOKIE_NOTICES))} <a href="#">OK</a></div>',
              f'<h1>{esc(site.name)}</h1><p>{esc(site.tagline)}</p>']
    for _ in range(rng.randint(3, 7)):
        kind = rng.randrange(5)
        if kind == 0:
            cats = rng.sample(CATEGORY_WORDS, rng.randint(5, 10))
            items = "".join(f'<li><a href="/category/{c.lower()}">{c}</a> ({rng.randint(1, 80)})</li>' for c in cats)
            blocks.append(f'<div class="widget"><h3>Categories</h3><ul>{items}</ul></div>')
        elif kind == 1:
            months = ["January", "February", "March", "April", "May", "June", "July", "August",
                      "September", "October", "November", "December"]
            year = rng.randint(2009, 2017)
            items = "".join(f'<li><a href="/{year}/{m:02d}/">{months[m - 1]} {year}</a></li>'
                            for m in sorted(rng.sample(range(1, 13), rng.randint(4, 12)), reverse=True))
            blocks.append(f'<div class="widget"><h3>Archives</h3><ul>{items}</ul></div>')
        elif kind == 2:
            lines = rng.sample(WIDGET_LINES, rng.randint(5, 12))
            blocks.append("".join(f"<div>{esc(line)}</div>" for line in lines))
        elif kind == 3:
            tags = rng.sample(CATEGORY_WORDS + NAV_WORDS, rng.randint(8, 16))
            blocks.append('<div class="tagcloud">' + " ".join(
                f'<a href="/tag/{t.lower().replace(" ", "-")}" style="font-size:{rng.randint(8, 22)}pt">{t}</a>'
                for t in tags) + "</div>")
        else:
            posts = "".join(
                f'<li><a href="/p/{rng.randint(100, 9999)}">{esc(rng.choice(CATEGORY_WORDS))} update #{rng.randint(1, 300)}</a>'
                f' <span>{rng.randint(1, 28)}/{rng.randint(1, 12)}/{rng.randint(2010, 2017)}</span></li>'
                for _ in range(rng.randint(4, 10)))
            blocks.append(f'<div class="widget"><h3>Recent Posts</h3><ul>{posts}</ul></div>')
    if teaser:
        blocks.insert(3, "".join(f'<div class="excerpt"><p>{esc(t)}</p><a href="#">Read more »</a></div>' for t in teaser))
    footer = " | ".join(rng.sample(["Home", "About", "Contact", "Privacy", "Terms", "Sitemap", "Imprint"], 4))
    blocks.append(f'<div class="footer">{footer}<br>&copy; {rng.randint(2008, 2017)} {esc(site.name)}. '
                  "All rights reserved. Powered by WordPress. Theme by ThemeForest.</div>")
    return simple_page(site.name, "\n".join(blocks))


# --------------------------------------------------------------------------------------
# Keyword-stuffed spam
# --------------------------------------------------------------------------------------

SPAM_THEMES = (
    ("cheap watches", ("buy", "cheap", "watches", "replica", "discount", "luxury", "online", "best price",
                       "free shipping", "sale", "swiss", "men", "women", "cheap watches")),
    ("payday loans", ("payday", "loans", "fast", "cash", "no credit check", "instant", "approval", "online",
                      "same day", "bad credit", "apply now", "payday loans")),
    ("casino bonus", ("casino", "bonus", "free spins", "online casino", "jackpot", "slots", "win", "real money",
                      "no deposit", "best casino", "play now", "casino bonus")),
    ("seo services", ("seo", "services", "backlinks", "rank", "google", "first page", "cheap seo",
                      "guaranteed", "traffic", "best seo company", "link building")),
    ("weight loss tea", ("weight loss", "tea", "detox", "fast", "burn fat", "natural", "slim", "diet",
                         "lose weight", "miracle", "cheap", "buy now")),
)


def spam_text(rng: random.Random, theme: tuple[str, tuple[str, ...]]) -> list[str]:
    """Lines of keyword soup: the repetition that n-gram and repetition filters are built for."""
    key, words = theme
    lines = []
    for _ in range(rng.randint(6, 14)):
        n = rng.randint(8, 30)
        chunk = [rng.choice(words) if rng.random() < 0.7 else key for _ in range(n)]
        lines.append(" ".join(chunk))
    lines.insert(0, f"{key} {key} {key} - best {key} online!!!")
    lines.append(f"Click here for {key}. {key.title()} {key.title()} {key.title()}.")
    return lines


def spam_page(site: Site, rng: random.Random) -> str:
    theme = rng.choice(SPAM_THEMES)
    lines = spam_text(rng, theme)
    key = theme[0]
    keywords = ", ".join([key] * 5 + list(theme[1]))
    links = " ".join(f'<a href="/{key.replace(" ", "-")}-{i}.html">{key} {i}</a>' for i in range(1, rng.randint(10, 30)))
    body = "".join(f"<p>{esc(line)}</p>" for line in lines) + f'<div class="links">{links}</div>'
    return simple_page(f"{key.title()} | {key} | Best {key}", f"<h1>{esc(key.upper())}</h1>{body}",
                 extra_head=f'<meta name="keywords" content="{esc(keywords)}">')


# --------------------------------------------------------------------------------------
# Lorem ipsum placeholder pages
# --------------------------------------------------------------------------------------

LOREM_WORDS = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
    "et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip "
    "ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum eu fugiat "
    "nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt "
    "mollit anim id est laborum"
).split()


def lorem_paragraph(rng: random.Random, first: bool = False) -> str:
    sentences = []
    for i in range(rng.randint(3, 7)):
        words = [rng.choice(LOREM_WORDS) for _ in range(rng.randint(6, 16))]
        if first and i == 0:
            words = ["lorem", "ipsum", "dolor", "sit", "amet"] + words[:8]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def lorem_page(site: Site, rng: random.Random) -> str:
    """A site template that was published before anyone replaced the placeholder text."""
    paras = "".join(f"<p>{lorem_paragraph(rng, first=i == 0)}</p>" for i in range(rng.randint(2, 6)))
    services = "".join(f"<div class=\"service\"><h3>Service {i}</h3><p>{lorem_paragraph(rng)[:120]}</p></div>"
                       for i in range(1, 4))
    return simple_page(f"{site.name} - Just another WordPress site",
                 f"<h1>Welcome to {esc(site.name)}</h1>{paras}<section>{services}</section>"
                 '<p><a href="#">Learn more</a> | <a href="#">Contact us</a></p>')


# --------------------------------------------------------------------------------------
# Shop listings (long lists of product names)
# --------------------------------------------------------------------------------------

PRODUCT_ADJ = ("Stainless Steel", "Premium", "Classic", "Deluxe", "Compact", "Heavy Duty", "Portable",
               "Vintage", "Ergonomic", "Waterproof", "Wireless", "Organic", "Handmade", "Professional")
PRODUCT_NOUN = ("Kettle", "Garden Hose", "Desk Lamp", "Backpack", "Coffee Grinder", "Yoga Mat", "Bike Light",
                "Chef Knife", "Water Bottle", "Hiking Boots", "Phone Case", "Tea Towel", "Drill Set",
                "Bluetooth Speaker", "Wool Blanket", "Cutting Board", "Rain Jacket", "Plant Pot")
PRODUCT_EXTRA = ("1.7L", "500ml", "Set of 3", "XL", "Black", "Blue", "Grey", "10 m", "LED", "USB-C",
                 "2-Pack", "Oak", "Size 42", "Model X200", "v2", "for Men", "for Women", "Kids")


def product_listing_page(site: Site, rng: random.Random) -> str:
    rows = []
    for _ in range(rng.randint(25, 70)):
        name = f"{rng.choice(PRODUCT_ADJ)} {rng.choice(PRODUCT_NOUN)} {rng.choice(PRODUCT_EXTRA)}"
        price = f"{rng.randint(3, 299)}.{rng.choice([99, 95, 49, 0]):02d}"
        sku = f"SKU-{rng.randint(10000, 99999)}"
        rows.append(f'<li class="product"><a href="/product/{sku.lower()}">{esc(name)}</a> '
                    f'<span class="price">${price}</span> <span class="sku">{sku}</span> '
                    f'<button>Add to cart</button></li>')
    filters = "".join(f"<li><input type=checkbox> {c}</li>" for c in rng.sample(PRODUCT_NOUN, 6))
    return simple_page(f"Shop all products | {site.name}",
                 f"<h1>All Products</h1><div class=\"filters\"><h3>Filter by</h3><ul>{filters}</ul></div>"
                 f"<p>Showing 1-{len(rows)} of {len(rows) * rng.randint(3, 20)} results</p>"
                 f"<ul class=\"products\">{''.join(rows)}</ul><div>Sort by: Popularity | Price | Newest</div>")


# --------------------------------------------------------------------------------------
# Non-English pages. Short sentences written for this project; slots vary names and numbers.
# --------------------------------------------------------------------------------------

FOREIGN: dict[str, dict[str, object]] = {
    "de": dict(
        charset_alt="iso-8859-1",
        title=("Neuigkeiten aus {place}", "Der Stadtrat von {place} plant einen neuen Park",
               "Wandern im Herbst: Tipps für Anfänger", "Warum das Brot vom Bäcker besser schmeckt"),
        places=("Lindenau", "Oberweiler", "Bergheim am See", "Tannenfeld", "Kleinwassern"),
        sentences=(
            "Der Stadtrat von {place} hat am Dienstag über den neuen Radweg beraten.",
            "Viele Bürger wünschen sich mehr Grünflächen in der Innenstadt.",
            "Die Bauarbeiten sollen im Frühjahr {year} beginnen und etwa {num} Monate dauern.",
            "Nach Angaben der Verwaltung kostet das Projekt rund {num} Millionen Euro.",
            "Im Sommer kommen jedes Jahr tausende Besucher an den See.",
            "Die Bäckerei am Marktplatz backt ihr Brot noch immer im Steinofen.",
            "Wer im Herbst wandern geht, sollte warme Kleidung und genug Wasser mitnehmen.",
            "Der Verein feiert in diesem Jahr sein {num}-jähriges Bestehen.",
            "Die Schule hat einen kleinen Garten angelegt, in dem die Kinder Gemüse anbauen.",
            "Am Wochenende findet auf dem Marktplatz ein Flohmarkt statt.",
            "Die Bürgermeisterin sagte, man müsse die Sorgen der Anwohner ernst nehmen.",
            "Das Museum zeigt Fotografien aus den fünfziger Jahren.",
            "Die neue Buslinie verbindet die Dörfer im Tal mit dem Bahnhof.",
            "Bei schönem Wetter ist der Aussichtsturm bis zum späten Abend geöffnet.",
            "Über die Zukunft des alten Schwimmbads wird seit Jahren gestritten.",
        ),
    ),
    "fr": dict(
        charset_alt="iso-8859-1",
        title=("Les nouvelles de {place}", "Un nouveau marché couvert ouvre à {place}",
               "Cinq conseils pour jardiner en hiver", "La fête du village aura lieu samedi"),
        places=("Saint-Aubin-sur-Loire", "Montrevel", "Villeneuve-les-Prés", "Beaulieu", "Rochefort-le-Haut"),
        sentences=(
            "Le conseil municipal de {place} s'est réuni mardi soir pour parler du nouveau marché.",
            "Les habitants souhaitent davantage de pistes cyclables dans le centre-ville.",
            "Les travaux commenceront au printemps {year} et dureront environ {num} mois.",
            "Selon la mairie, le projet coûtera près de {num} millions d'euros.",
            "Chaque été, des milliers de visiteurs viennent se baigner dans le lac.",
            "La boulangerie de la place cuit toujours son pain au feu de bois.",
            "Il est conseillé de partir tôt le matin pour éviter la chaleur.",
            "L'association fête cette année ses {num} ans d'existence.",
            "Les élèves de l'école ont planté un petit potager derrière la cantine.",
            "Un vide-grenier aura lieu dimanche sur la place de l'église.",
            "Le maire a promis de répondre aux inquiétudes des riverains.",
            "Le musée présente une exposition de photographies anciennes.",
            "La nouvelle ligne de bus relie les villages de la vallée à la gare.",
            "Le festival de musique attire chaque année un public de plus en plus nombreux.",
            "Beaucoup de jeunes quittent la région pour trouver du travail en ville.",
        ),
    ),
    "es": dict(
        charset_alt="iso-8859-1",
        title=("Noticias de {place}", "El ayuntamiento de {place} aprueba un nuevo parque",
               "Cómo preparar una buena paella en casa", "Las fiestas del pueblo comienzan el viernes"),
        places=("Villaverde del Río", "San Martín de la Sierra", "Puerto Claro", "Alcalá del Monte", "Valdeflores"),
        sentences=(
            "El ayuntamiento de {place} aprobó el martes la construcción de un nuevo parque.",
            "Muchos vecinos piden más zonas verdes en el centro de la ciudad.",
            "Las obras empezarán en la primavera de {year} y durarán unos {num} meses.",
            "Según el alcalde, el proyecto costará cerca de {num} millones de euros.",
            "Cada verano miles de turistas visitan las playas de la costa.",
            "La panadería de la plaza sigue haciendo el pan en un horno de leña.",
            "Para una buena paella hace falta arroz de calidad y mucha paciencia.",
            "La asociación cultural celebra este año su {num} aniversario.",
            "Los alumnos del colegio han plantado un pequeño huerto en el patio.",
            "El mercadillo se celebra todos los domingos junto al río.",
            "La alcaldesa prometió escuchar las quejas de los vecinos.",
            "El museo municipal reabrirá sus puertas después de dos años de reformas.",
            "La nueva línea de autobús une los pueblos del valle con la estación.",
            "Las fiestas del pueblo atraen a visitantes de toda la comarca.",
            "Muchos jóvenes se marchan a la ciudad en busca de trabajo.",
        ),
    ),
    "ru": dict(
        charset_alt="windows-1251",
        title=("Новости города {place}", "В городе {place} откроют новый парк",
               "Как вырастить помидоры на балконе", "Летний фестиваль пройдёт в субботу"),
        places=("Озёрск-на-Волге", "Березники", "Светлогорье", "Каменка"),
        sentences=(
            "Городской совет {place} во вторник обсудил строительство нового парка.",
            "Многие жители хотят, чтобы в центре было больше деревьев.",
            "Работы начнутся весной {year} года и продлятся около {num} месяцев.",
            "По словам мэра, проект обойдётся примерно в {num} миллионов рублей.",
            "Каждое лето тысячи туристов приезжают на берег озера.",
            "Пекарня на площади до сих пор печёт хлеб в каменной печи.",
            "Ученики местной школы посадили небольшой огород.",
            "В выходные на площади пройдёт ярмарка.",
            "Музей открыл выставку старых фотографий.",
            "Новый автобусный маршрут соединит деревни с вокзалом.",
            "Многие молодые люди уезжают в большие города.",
            "Осенью в лесу собирают грибы и ягоды.",
        ),
    ),
    "zh": dict(
        charset_alt="gb2312",
        title=("{place}本地新闻", "{place}将建设新的城市公园", "如何在阳台上种番茄", "周末音乐节即将开幕"),
        places=("青川", "南湖", "云溪", "白石镇"),
        sentences=(
            "{place}市政府周二讨论了新公园的建设计划。",
            "许多居民希望市中心能有更多的绿地。",
            "工程将于{year}年春天开工，预计持续{num}个月。",
            "据市长介绍，该项目总投资约{num}亿元。",
            "每年夏天都有成千上万的游客来到湖边。",
            "广场上的面包店至今仍用石炉烤面包。",
            "当地小学的学生们在校园里开辟了一块菜地。",
            "周末广场上将举办集市。",
            "博物馆正在展出一批老照片。",
            "新的公交线路将把山谷里的村庄和火车站连接起来。",
            "很多年轻人离开家乡到大城市工作。",
            "秋天，人们到山上采蘑菇。",
        ),
    ),
    "ja": dict(
        charset_alt="shift_jis",
        title=("{place}の地域ニュース", "{place}に新しい公園ができます", "ベランダでトマトを育てる方法"),
        places=("みなと町", "桜川", "青葉台"),
        sentences=(
            "{place}の市議会は火曜日に新しい公園の計画について話し合いました。",
            "多くの住民が町の中心にもっと緑がほしいと考えています。",
            "工事は{year}年の春に始まり、およそ{num}か月かかる予定です。",
            "毎年夏には多くの観光客が湖を訪れます。",
            "広場のパン屋は今でも石窯でパンを焼いています。",
            "地元の小学校の子どもたちが小さな畑を作りました。",
            "週末には広場で市場が開かれます。",
            "新しいバス路線が谷の村と駅を結びます。",
        ),
    ),
}


def foreign_text(lang: str, rng: random.Random) -> tuple[str, list[str]]:
    """(title, paragraphs) in ``lang``."""
    spec = FOREIGN[lang]
    place = rng.choice(spec["places"])  # type: ignore[arg-type]

    def fill(s: str) -> str:
        return s.format(place=place, year=rng.randint(2015, 2018), num=rng.randint(2, 40))

    # Draw sentences without replacement so a page never repeats itself.
    sentences = list(spec["sentences"])  # type: ignore[arg-type]
    rng.shuffle(sentences)
    sentences = sentences[: rng.randint(5, len(sentences))]
    sep = "" if lang in ("zh", "ja") else " "
    paragraphs = []
    while sentences:
        n = rng.randint(2, 4)
        paragraphs.append(sep.join(fill(s) for s in sentences[:n]))
        sentences = sentences[n:]
    return fill(rng.choice(spec["title"])), paragraphs  # type: ignore[arg-type]


FOREIGN_NAV = {
    "de": ("Startseite", "Nachrichten", "Sport", "Kultur", "Impressum", "Datenschutz"),
    "fr": ("Accueil", "Actualités", "Sport", "Culture", "Mentions légales", "Contact"),
    "es": ("Inicio", "Noticias", "Deportes", "Cultura", "Aviso legal", "Contacto"),
    "ru": ("Главная", "Новости", "Спорт", "Культура", "Контакты"),
    "zh": ("首页", "新闻", "体育", "文化", "联系我们"),
    "ja": ("ホーム", "ニュース", "スポーツ", "文化", "お問い合わせ"),
}


def foreign_page(site: Site, lang: str, rng: random.Random, charset: str = "utf-8") -> str:
    title, paragraphs = foreign_text(lang, rng)
    nav = " | ".join(f'<a href="/{i}">{esc(w)}</a>' for i, w in enumerate(FOREIGN_NAV[lang]))
    body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
    return simple_page(title, f"<nav>{nav}</nav><article><h1>{esc(title)}</h1>{body}</article>",
                 lang=lang, charset=charset)


def simple_page(title: str, body: str, *, lang: str = "en", charset: str = "utf-8", extra_head: str = "") -> str:
    """A bare HTML document (no site template) around ``body``."""
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="{charset}"><title>{esc(title)}</title>'
            f"{extra_head}</head>\n<body>\n{body}\n</body></html>\n")
