"""Machine-made and templated pages for the synthetic Common Crawl shard: the low-quality text
that *survives extraction*.

Menus, tag clouds and shop grids (``sample_lowquality``) mostly vanish in a main-text extractor.
What a real crawl's extracted text is full of instead is text nobody wrote for a reader: SEO
doorway pages ("best plumber in Fenmouth"), listings generated from a database (homes, firms,
jobs, cars, weather), privacy policies and terms, comment-spam threads, and near-empty pages
(parked domains, "enable JavaScript", log-in walls, soft 404s, bot checks). Many of them pass
the Gopher / C4 / FineWeb rules; GPT-3's quality classifier is what is meant to catch them, and
its negatives (raw crawl text) are mostly this. Every sentence here was written for this
project; slots vary the names, places and numbers.

Contact lines carry e-mail addresses on the page's own (fictional) host, as real ones do: the
raw crawl has them verbatim, while the cleaned text has `PIIAnonymizer`'s stand-ins.

Every function takes the page's ``Site`` and a seeded ``random.Random`` and returns HTML.
"""

from __future__ import annotations

import random

from sample_html import Site, esc
from sample_lowquality import simple_page
from sample_topics import FEMALE_NAMES, MALE_NAMES, PLACES, SURNAMES

# --------------------------------------------------------------------------------------
# Shared slots
# --------------------------------------------------------------------------------------

STREETS = ("Mill Lane", "Station Road", "High Street", "Church Road", "Park Avenue", "Victoria Street",
           "Orchard Close", "Queensway", "Elm Grove", "Harbour Road", "Market Square", "Bridge Street",
           "Kingsway", "Meadow Drive", "Chapel Lane", "Oak Crescent")
MAILBOXES = ("info", "sales", "contact", "office", "bookings", "hello", "support", "admin", "enquiries")


def _town(rng: random.Random) -> str:
    """A place name that reads as a town in a listing ("Calder Bay", not "the Vell Valley")."""
    return rng.choice([p for p in PLACES if not p.startswith("the ")])


def _phone(rng: random.Random) -> str:
    return f"(555) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}"


def _email(rng: random.Random, site: Site) -> str:
    domain = site.host.removeprefix("www.").removeprefix("blog.").removeprefix("news.")
    return f"{rng.choice(MAILBOXES)}@{domain}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} {rng.choice(SURNAMES)}"


def _fill(template: str, slots: dict[str, object]) -> str:
    return template.format(**slots)


# --------------------------------------------------------------------------------------
# SEO doorway pages: one keyword and one town, poured into marketing sentences
# --------------------------------------------------------------------------------------

SEO_SERVICES = ("plumber", "roofing contractor", "locksmith", "carpet cleaning", "dentist", "car insurance",
                "personal injury lawyer", "moving company", "web design agency", "pest control",
                "boiler repair", "wedding photographer", "dog grooming", "tree surgeon", "window cleaner",
                "driving school", "SEO agency", "payday loan", "air conditioning repair", "garage door repair")
SEO_BRANDS = ("Pro", "Elite", "Premier", "Express", "Ace", "Prime", "Smart", "Budget", "First Choice", "A1",
              "Superior", "Reliable", "24/7", "Total", "Platinum")
SEO_SENTENCES = (
    "Looking for the best {kw} in {town}? You have come to the right place.",
    "{brand} is the number one {kw} in {town} and the surrounding areas.",
    "Our {kw} experts have more than {n} years of experience and thousands of happy customers.",
    "We offer affordable, reliable and professional {kw} services at the lowest prices in {town}.",
    "In today's fast-paced world, finding a trusted {kw} can be a real challenge.",
    "That is why so many people in {town} choose {brand} for all of their {kw} needs.",
    "Whether you need an emergency {kw} or a regular appointment, our team is ready to help.",
    "Our friendly staff are available 24 hours a day, 7 days a week, 365 days a year.",
    "Don't wait until it is too late: contact the best {kw} in {town} today!",
    "Customer satisfaction is our top priority and every job comes with our {n}-day guarantee.",
    "Read on to find out why we are the top rated {kw} in {town} for {year}.",
    "Searching for a cheap {kw} near me? {brand} has you covered.",
    "We are fully licensed, bonded and insured for your complete peace of mind.",
    "Book online in just a few clicks and save {pct}% on your first visit.",
    "No job is too big or too small for our {kw} team.",
    "We pride ourselves on fast response times and honest, upfront pricing.",
    "Thousands of satisfied customers in {town} can't be wrong!",
    "Get a free, no-obligation quote from a local {kw} in minutes.",
    "As a family-run business, we treat every customer like one of our own.",
    "Our {kw} prices are among the most competitive in the whole of {town}.",
    "With {brand}, you get quality {kw} service at a price you can afford.",
    "Choosing the right {kw} in {town} has never been easier.",
    "We use only the latest equipment and the highest quality materials.",
    "Call us now on {phone} or email {email} and one of our experts will get back to you.",
    "Many customers ask us how much a {kw} in {town} costs; the answer depends on your needs.",
    "That is why we always offer a free consultation before any work begins.",
)
SEO_REASONS = ("Licensed and insured", "Free estimates", "Same-day service", "No call-out fee",
               "100% satisfaction guaranteed", "Family owned and operated", "Over {n} years in business",
               "Open 7 days a week", "Senior and military discounts", "Best price guarantee",
               "Friendly, professional staff", "Emergency service 24/7")
SEO_TESTIMONIALS = ("Best {kw} I have ever used, highly recommended!", "Fast, friendly and great value. Five stars!",
                    "They came the same day and fixed everything. Will use again.",
                    "Very professional {kw}, I would recommend them to anyone in {town}.",
                    "Great service at a great price, thank you so much!")


def seo_page(site: Site, rng: random.Random) -> str:
    """A doorway page: the same keyword and town in every sentence, a list of reasons, a
    testimonial, the towns "we serve" and a contact line."""
    kw, town = rng.choice(SEO_SERVICES), _town(rng)
    slots = {"kw": kw, "town": town, "brand": f"{town.split()[0]} {rng.choice(SEO_BRANDS)} {kw.title()}",
             "n": rng.randint(5, 40), "pct": rng.choice([10, 15, 20, 25, 30, 50]), "year": rng.randint(2015, 2018),
             "phone": _phone(rng), "email": _email(rng, site)}
    sentences = rng.sample(SEO_SENTENCES, rng.randint(9, 16))
    paras, i = [], 0
    while i < len(sentences):
        n = rng.randint(2, 4)
        paras.append(" ".join(_fill(s, slots) for s in sentences[i:i + n]))
        i += n
    reasons = "".join(f"<li>{esc(_fill(r, slots))}</li>" for r in rng.sample(SEO_REASONS, rng.randint(4, 7)))
    served = ", ".join(rng.sample([p for p in PLACES if not p.startswith("the ")], rng.randint(5, 12)))
    quote = _fill(rng.choice(SEO_TESTIMONIALS), slots)
    keywords = " | ".join(f"{k} {town}" for k in (f"best {kw}", f"cheap {kw}", f"{kw} near me", f"emergency {kw}"))
    body = "".join(f"<p>{esc(p)}</p>" for p in paras[:2])
    body += f"<h2>Why choose {esc(str(slots['brand']))}?</h2><ul>{reasons}</ul>"
    body += "".join(f"<p>{esc(p)}</p>" for p in paras[2:])
    body += (f"<blockquote>&ldquo;{esc(quote)}&rdquo; &ndash; {esc(_person(rng))}, {esc(town)}</blockquote>"
             f"<p>Areas we serve: {esc(served)} and more.</p><p>{esc(keywords)}</p>"
             f"<p>Call {esc(str(slots['phone']))} or email {esc(str(slots['email']))} today!</p>")
    title = f"Best {kw.title()} in {town} | {slots['brand']}"
    return simple_page(title, f"<article><h1>{esc(title)}</h1>{body}</article>")


# --------------------------------------------------------------------------------------
# Listings generated from a database: one template, many rows
# --------------------------------------------------------------------------------------

HOUSE_TYPES = ("detached house", "semi-detached house", "terraced house", "bungalow", "apartment", "townhouse",
               "cottage", "studio flat")
TRADES = ("Plumbing", "Electrical", "Auto Repair", "Dental Care", "Hair Salon", "Bakery", "Pizza", "Accountants",
          "Florist", "Pet Supplies", "Dry Cleaning", "Printing", "Tyres", "Opticians", "Solicitors")
WEATHER_CONDITIONS = ("Sunny", "Partly cloudy", "Cloudy", "Light rain", "Heavy rain", "Showers", "Thunderstorms",
                      "Fog", "Drizzle", "Clear", "Sleet", "Windy")
WIND = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
JOB_TITLES = ("Warehouse Operative", "Customer Service Advisor", "Delivery Driver", "Sales Executive",
              "Care Assistant", "Junior Accountant", "Forklift Driver", "Receptionist", "Software Developer",
              "Cleaner", "Kitchen Porter", "Marketing Assistant", "Data Entry Clerk", "Security Officer")
CAR_MAKES = (("Arlen", ("Sprite", "Vela", "Marlin")), ("Castor", ("Tern", "Kestrel", "Osprey")),
             ("Duvall", ("Ridge", "Summit", "Crest")), ("Orwin", ("Pico", "Terra", "Nova")),
             ("Halvard", ("Fjord", "Saga", "Polar")))
CAR_COLOURS = ("black", "silver", "white", "blue", "red", "grey", "green")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _home_row(rng: random.Random, site: Site, town: str) -> str:
    beds = rng.randint(1, 5)
    return (f"{beds} bed, {rng.randint(1, max(1, beds - 1))} bath {rng.choice(HOUSE_TYPES)} for sale on "
            f"{rng.choice(STREETS)}, {town}. {rng.randint(450, 3200):,} sq ft, built in {rng.randint(1890, 2017)}, "
            f"listed at ${rng.randint(60, 900) * 1000:,}. Call {_person(rng)} on {_phone(rng)}.")


def _firm_row(rng: random.Random, site: Site, town: str) -> str:
    name = f"{rng.choice(SURNAMES)} {rng.choice(TRADES)}"
    return (f"{name} is located at {rng.randint(1, 240)} {rng.choice(STREETS)}, {town}. Phone: {_phone(rng)}. "
            f"Email: {rng.choice(MAILBOXES)}@{name.lower().replace(' ', '')}.com. Open {rng.choice(['Mon-Fri', 'Mon-Sat', '7 days'])}, "
            f"{rng.randint(7, 10)}am to {rng.randint(4, 9)}pm. Rated {rng.randint(20, 50) / 10} out of 5 from "
            f"{rng.randint(2, 400)} reviews.")


def _weather_row(rng: random.Random, site: Site, town: str) -> str:
    lo = rng.randint(-5, 15)
    return (f"{rng.choice(WEEKDAY_NAMES)} in {town}: {rng.choice(WEATHER_CONDITIONS)}, high of {lo + rng.randint(2, 12)} "
            f"degrees, low of {lo} degrees. Wind {rng.randint(3, 60)} km/h from the {rng.choice(WIND)}, humidity "
            f"{rng.randint(30, 99)} percent, chance of rain {rng.randint(0, 100)} percent.")


def _job_row(rng: random.Random, site: Site, town: str) -> str:
    lo = rng.randint(16, 60)
    return (f"{rng.choice(JOB_TITLES)} wanted at {rng.choice(SURNAMES)} {rng.choice(['Ltd', 'Group', 'Logistics', 'Services', 'Recruitment'])}, "
            f"{town}. {rng.choice(['Full time', 'Part time', 'Temporary', 'Contract'])}, ${lo},000 to ${lo + rng.randint(2, 15)},000 "
            f"per year. Posted {rng.randint(1, 30)} days ago. Job ID {rng.randint(100000, 999999)}. Apply now.")


def _car_row(rng: random.Random, site: Site, town: str) -> str:
    make, models = rng.choice(CAR_MAKES)
    return (f"{rng.randint(2004, 2017)} {make} {rng.choice(models)} {rng.choice(['1.2', '1.4', '1.6', '2.0'])} "
            f"{rng.choice(['manual', 'automatic'])}, {rng.randint(8, 140) * 1000:,} miles, {rng.choice(CAR_COLOURS)}, "
            f"{rng.choice(['petrol', 'diesel', 'hybrid'])}. Price ${rng.randint(15, 240) * 100:,}. Dealer: "
            f"{rng.choice(SURNAMES)} Motors, {town}. Stock number {rng.randint(1000, 9999)}.")


LISTINGS = {
    "homes": ("Homes for sale in {town}", _home_row),
    "firms": ("{trade} businesses in {town}", _firm_row),
    "weather": ("{town} weather forecast", _weather_row),
    "jobs": ("Jobs in {town}", _job_row),
    "cars": ("Used cars for sale in {town}", _car_row),
}


def listing_page(site: Site, rng: random.Random) -> tuple[str, str]:
    """(listing kind, HTML): a results page of rows from one template, paginated."""
    kind = rng.choice(sorted(LISTINGS))
    heading, row = LISTINGS[kind]
    town = _town(rng)
    title = heading.format(town=town, trade=rng.choice(TRADES))
    n = rng.randint(6, 14)
    page = rng.randint(1, 30)
    rows = "".join(f"<p>{esc(row(rng, site, town))}</p>" for _ in range(n))
    body = (f"<h1>{esc(title)}</h1><p>Showing results {(page - 1) * n + 1} to {page * n} of "
            f"{page * n + rng.randint(20, 900)} for {esc(title.lower())}, sorted by newest first.</p>{rows}"
            f"<p>Page {page} of {page + rng.randint(1, 40)}. Next page.</p>"
            f"<p>Listings are updated automatically every day. Contact {esc(_email(rng, site))} to add yours.</p>")
    return kind, simple_page(f"{title} - page {page} | {site.name}", f"<main>{body}</main>")


# --------------------------------------------------------------------------------------
# Privacy policies, terms and disclaimers
# --------------------------------------------------------------------------------------

LEGAL_SECTIONS = {
    "Information we collect": (
        "We may collect personal information such as your name, email address, postal address and telephone number when you register on our site.",
        "We also automatically collect certain information about your device, including your IP address, browser type and operating system.",
        "This information is collected when you fill out a form, place an order or subscribe to our newsletter.",
        "We do not knowingly collect personal information from children under the age of {age}.",
    ),
    "How we use your information": (
        "Any of the information we collect from you may be used to personalise your experience and to improve our website.",
        "We may use your email address to send you information and updates pertaining to your order or account.",
        "Your information will not be sold, exchanged, transferred or given to any other company without your consent.",
        "We may process your personal data on the basis of legitimate interests, contract performance or consent.",
    ),
    "Third parties": (
        "We may share information with trusted third parties who assist us in operating our website and conducting our business.",
        "These third parties agree to keep this information confidential and to use it only for the purposes set out above.",
        "Our website may contain links to third-party websites, which have separate and independent privacy statements.",
        "We therefore have no responsibility or liability for the content and activities of these linked sites.",
    ),
    "Limitation of liability": (
        "The materials on this website are provided on an as is basis without warranties of any kind, either express or implied.",
        "In no event shall {company} or its suppliers be liable for any damages arising out of the use or inability to use the materials on this website.",
        "{company} does not warrant that the materials on its website are accurate, complete or current.",
        "We may make changes to the materials contained on this website at any time without notice.",
    ),
    "Your rights": (
        "You have the right to request access to the personal data we hold about you and to ask for it to be corrected or deleted.",
        "You may unsubscribe from our emails at any time by following the instructions at the bottom of each message.",
        "If you wish to exercise any of these rights, please contact us at {email}.",
        "We will respond to your request within {days} days of receiving it.",
    ),
    "Changes to these terms": (
        "We reserve the right to update or change these terms at any time, and you should check this page periodically.",
        "Your continued use of the service after we post any modifications will constitute your acknowledgement of the changes.",
        "These terms shall be governed by and construed in accordance with the laws of {country}.",
        "This document was last updated on {date}.",
    ),
}
LEGAL_TITLES = ("Privacy Statement", "Terms and Conditions", "Legal Notice", "Disclaimer", "Data Protection Notice",
                "Website Terms")


def legal_page(site: Site, rng: random.Random) -> str:
    """Numbered sections of policy sentences with the site's name and address filled in."""
    slots = {"company": f"{site.name} Ltd", "email": _email(rng, site), "age": rng.choice([13, 16, 18]),
             "days": rng.choice([14, 28, 30, 45]), "country": rng.choice(["England and Wales", "the State of Delaware",
                                                                          "Ireland", "Ontario"]),
             "date": f"{rng.randint(1, 28)} {rng.choice(['January', 'March', 'May', 'August', 'October'])} {rng.randint(2014, 2017)}"}
    title = rng.choice(LEGAL_TITLES)
    parts = [f"<h1>{esc(title)}</h1>",
             f"<p>This {esc(title.lower())} sets out how {esc(str(slots['company']))} uses and protects any "
             f"information that you give when you use this website.</p>"]
    for number, heading in enumerate(rng.sample(sorted(LEGAL_SECTIONS), rng.randint(3, 6)), 1):
        sentences = rng.sample(LEGAL_SECTIONS[heading], rng.randint(2, 4))
        parts.append(f"<h2>{number}. {esc(heading)}</h2><p>{esc(' '.join(_fill(s, slots) for s in sentences))}</p>")
    return simple_page(f"{title} | {site.name}", f"<article>{''.join(parts)}</article>")


# --------------------------------------------------------------------------------------
# Comment spam: a short post buried under generic praise and links
# --------------------------------------------------------------------------------------

SPAM_COMMENTS = (
    "Great post, thanks for sharing this with us!",
    "I have been surfing online for hours today and never found an article as interesting as yours.",
    "Very informative article, I will bookmark your site and come back later.",
    "Wow, this is exactly what I was looking for. Keep up the good work!",
    "Hello admin, do you mind if I share this on my blog? Please reply.",
    "Nice article. Please visit my website too, it is about {kw}.",
    "This is really helpful, thank you. Check out my page about {kw} if you have time.",
    "I like the valuable information you provide in your articles.",
    "Hi there, I found your blog via Google while searching for {kw}. Your post looks very interesting for me.",
    "Awesome post! Can you write more about this topic? Thanks in advance.",
    "Your website is loading very slowly for me, is anyone else having this problem?",
    "I am new to this, can someone explain how this works? Thanks.",
    "Excellent read, I just passed this on to a colleague who was doing some research on this.",
    "Thanks for the good writeup. It was a great read. Looking forward to more.",
    "Hey, nice site you have here. Is this a paid theme or did you make it yourself?",
    "Best {kw} deals online, visit us now for a special discount!",
)
SPAM_USERS = ("admin", "cheap{kw2}", "best{kw2}online", "john", "seo_expert", "Guest", "buy{kw2}",
              "lucy88", "marketing_pro", "anonymous")


def comment_spam_page(site: Site, rng: random.Random) -> str:
    """A guestbook or forum thread: a two-sentence post, then generic praise and dropped links.

    Rendered as the page's main content (a guestbook is), not as a comment section, which a
    main-text extractor rightly leaves out.
    """
    kw = rng.choice(SEO_SERVICES)
    kw2 = kw.replace(" ", "")
    post = rng.choice(("Just a quick update from us this week.", "Here are some photos from the weekend.",
                       "Sorry for the lack of posts lately.", "Welcome to our new guestbook!"))
    post += " " + rng.choice(("More soon, stay tuned.", "Let us know what you think below.",
                              "Thanks for reading, everyone.", "Have a great week."))
    entries = []
    for _ in range(rng.randint(3, 10)):
        user = rng.choice(SPAM_USERS).format(kw2=kw2)
        text = rng.choice(SPAM_COMMENTS).format(kw=kw)
        when = f"{rng.randint(1, 28)}/{rng.randint(1, 12)}/{rng.randint(2014, 2017)} at {rng.randint(1, 12)}:{rng.randint(0, 59):02d} pm"
        link = f" Visit http://{kw2}-{rng.randint(1, 99)}.example.com" if rng.random() < 0.3 else ""
        entries.append(f'<div class="entry"><p><b>{esc(user)}</b> wrote on {when}:</p><p>{esc(text + link)}</p></div>')
    title = post.split(".")[0]
    return simple_page(f"{title} | {site.name}",
                 f"<main><h1>{esc(title)}</h1><p>{esc(post)}</p>{''.join(entries)}"
                 f"<p>{len(entries)} entries. Sign the guestbook.</p></main>")


# --------------------------------------------------------------------------------------
# Near-empty pages: what is left of parked domains, app shells, log-in walls and bot checks
# --------------------------------------------------------------------------------------

STUB_PAGES = {
    "parked": ("{host} is for sale", "The domain {host} may be for sale. Buy this domain today! "
               "Make an offer or contact {email} for details. Related searches: {kw}, cheap {kw}, best {kw}."),
    "enable_javascript": ("Loading...", "You need to enable JavaScript to run this app. Please enable "
                          "JavaScript in your browser settings and reload the page."),
    "login": ("Sign in", "Sign in to your account. Username or email. Password. Remember me. Forgot your "
              "password? Don't have an account? Register now."),
    "soft_404": ("Page not found", "Oops! That page can't be found. It looks like nothing was found at this "
                 "location. Maybe try one of the links below or a search?"),
    "coming_soon": ("Coming soon", "Our new website is coming soon! We are working hard to give you the best "
                    "experience. Subscribe to be notified when we launch."),
    "bot_check": ("Just a moment...", "Checking your browser before accessing {host}. This process is "
                  "automatic. Your browser will redirect to your requested content shortly. Please allow up "
                  "to 5 seconds."),
    "age_gate": ("Age verification", "You must be {age} or older to enter this site. Please confirm your date "
                 "of birth. Day. Month. Year. Enter. Leave."),
    "maintenance": ("Down for maintenance", "We'll be back soon! Sorry for the inconvenience, we are performing "
                    "some scheduled maintenance at the moment. Please check back in {n} minutes."),
    "suspended": ("Account suspended", "This account has been suspended. Please contact your hosting provider "
                  "or email {email} for more information."),
    "default_server": ("It works!", "This is the default web page for this server. The web server software is "
                       "running but no content has been added yet."),
    "redirecting": ("Redirecting...", "You are being redirected. If you are not redirected automatically within "
                    "{n} seconds, please click here."),
    "no_results": ("Search results", "No results found for {kw}. Please try different keywords or browse our "
                   "categories."),
    "empty_cart": ("Your cart", "Your shopping cart is empty. Continue shopping. Free delivery on orders over "
                   "${n}."),
    "captcha": ("Security check", "Please verify that you are a human. Press and hold the button until the "
                "check is complete. Reference ID {ref}."),
    "unsubscribed": ("Unsubscribed", "You have been unsubscribed from our mailing list and will no longer "
                     "receive emails from {host}. Changed your mind? Subscribe again."),
}


def stub_page(site: Site, rng: random.Random) -> tuple[str, str]:
    """(stub kind, HTML): a page whose only text is a line or two of machinery."""
    kind = rng.choice(sorted(STUB_PAGES))
    title, text = STUB_PAGES[kind]
    slots = {"host": site.host, "email": _email(rng, site), "kw": rng.choice(SEO_SERVICES), "age": rng.choice([18, 21]),
             "n": rng.choice([5, 10, 15, 30, 50]), "ref": f"{rng.getrandbits(48):012x}"}
    return kind, simple_page(title.format(**slots), f"<main><h1>{esc(title.format(**slots))}</h1>"
                                               f"<p>{esc(text.format(**slots))}</p></main>")
