"""Vocabulary for the synthetic article generator (``sample_prose.ProseGenerator``).

Everything here was written for this project: the topics, the invented people, places and
organisations, and every sentence. Nothing is copied from the web. The lists are deliberately
large and varied so that a byte-level BPE tokenizer and a tiny GPT trained on the generated
text see a realistic spread of words, punctuation, numbers and sentence shapes instead of one
template repeated.

Format conventions, kept simple so the lists stay readable:

* ``nouns``: singular forms; an irregular plural is written ``"singular/plural"``.
* ``verbs``: transitive verbs in the base form; an irregular past tense is written
  ``"base:past"`` (the 3rd-person ``-s`` form is derived by rule).
* ``activities``: gerund phrases usable as a subject or after a preposition.
* ``claims``: lower-case clauses that read correctly after "that" ("Experts say that ...").
* ``facts``, ``quotes``: complete sentences. Slots in braces (``{place}``, ``{year}``,
  ``{num}``, ``{org}``, ``{name}``) are filled by the generator so the same fact varies.
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------
# Shared pools (used by every topic)
# --------------------------------------------------------------------------------------

FEMALE_NAMES = (
    "Mara Ines Priya Aiko Lena Sofia Hannah Amara Chloe Eleni Noor Fatima Greta Ingrid Julia "
    "Kirsten Leila Marisol Nadia Olga Paula Rosa Sanne Tamsin Ursula Vera Wen Yara Zofia Adaeze "
    "Beatriz Carmen Dagny Elif Freya Gwen Hiroko Imogen Jessa Katya Linnea Maeve Niamh Odette "
    "Petra Rhiannon Selma Thea"
).split()

MALE_NAMES = (
    "Tomas Arjun Kenji Daniel Felix Gareth Hamid Ivan Jonah Kofi Lukas Mateo Nikhil Oskar Pavel "
    "Quentin Rafael Stellan Tobias Umar Viktor Wendell Xavier Yusuf Zane Anders Bram Caspar "
    "Dmitri Emeka Florian Gideon Hugo Idris Joaquin Kasper Lorcan Magnus Nils Otto Piotr Rory "
    "Silas Teodor Ulrich Vikram Will"
).split()

SURNAMES = (
    "Lindqvist Okafor Marchetti Halloran Brandvold Nakamura Achterberg Castellanos Devereux "
    "Ellingsen Fairweather Gallardo Hartigan Ibsen Jaramillo Kowalczyk Lachance Moberly Nwosu "
    "Oyelaran Pettersen Quintero Rasmussen Sandoval Thorsby Underhill Valcourt Whitlock Yamada "
    "Zielinski Abernathy Bellweather Calloway Drummond Eskildsen Farrow Grimsby Holloway Iverson "
    "Jessup Kincaid Larkspur Mackintosh Norwood Ostrander Pemberton Radcliffe Strand Tolliver "
    "Varga Wexley Ashdown Brightwater Coulter Delacroix Everly Fenwick Goldberg Haddad Ishikawa "
    "Jovanovic Karlsson Lindgren Mbeki Novak Orlov Patel Rahman Sato Tanaka Umarov Vasquez "
    "Wojcik Xu Young Zhang Adeyemi Bjornstad Cardenas Dufresne"
).split()

# Invented towns and regions, plus a few real countries for realism.
PLACES = (
    "Marrowfield|Port Ellery|Calder Bay|Westmoor|Ashby Crossing|Linden Falls|Greywater|"
    "Saltmarsh|Kestrel Point|Oakhurst|New Harlow|Brennan County|the Vell Valley|Tamsin Island|"
    "Corrigan|Fenmouth|Halden Ridge|Larchmont Flats|Millbrook|North Aldery|Pellham|Quarry Hill|"
    "Redcastle|Stonewick|Thistledown|Upper Wray|Varrow|Whitcombe|Yarrowby|the Ossery Hills|"
    "Dunmere|Brackenford|the Morrow Coast|Edgecliff|Glenhaven|Hollis Junction|Ironbridge Lake|"
    "Ambleford|Barrowmere|Cobble Hythe|Drayfield|Eastwold|Fallowmead|Gorran Haven|Hartwell Green|"
    "Inchbrook|Juniper Creek|Kilmarden|Lowhaven|Maplestead|Netherby Cross|Orrin Falls|Pinecastle|"
    "Rookwood|Sedgemoor Vale|Tillinghast|Wrenfield"
).split("|")
# Real countries appear only in phrases that read naturally with a country.
COUNTRIES = "Norway|Chile|Portugal|New Zealand|Finland|Kenya|Vietnam|Uruguay|Iceland|Canada|Japan|Morocco|Estonia".split("|")

MONTHS = (
    "January February March April May June July August September October November December"
).split()
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

NUMBER_WORDS = "two three four five six seven eight nine ten eleven twelve".split()
ROUND_NUMBER_WORDS = "fifteen twenty thirty forty fifty".split()

# Sentence openers that change rhythm without changing meaning.
CONNECTIVES = (
    "However,|Meanwhile,|In practice,|Today,|Even so,|At the same time,|In the end,|Still,|"
    "By contrast,|As it turns out,|For now,|Above all,|To be fair,|Put simply,|Admittedly,|"
    "Curiously,|In other words,|Just as important,|Perhaps surprisingly,|Unsurprisingly,|"
    "Of course,|Crucially,|In short,|Either way,|Then again,"
).split("|")

CLAIM_INTROS = (
    "It is now widely accepted that|Most of the people I spoke to agree that|"
    "The evidence so far suggests that|Critics point out that|Supporters argue that|"
    "There is a growing sense that|Few would dispute that|It is easy to forget that|"
    "Nobody seriously doubts that|The uncomfortable truth is that|Several studies have found that|"
    "Local officials insist that|The consensus, such as it is, holds that|"
    "One lesson from the last decade is that|A recent survey found that|"
    "Old hands like to remind newcomers that|It has long been assumed that|"
    "Researchers have repeatedly shown that|Veterans of the field will tell you that|"
    "A report published last spring concluded that|Even the sceptics concede that|"
    "Practitioners have known for decades that|The most persuasive argument is that|"
    "What the numbers show is that|Anyone who has tried it will tell you that"
).split("|")

SAY_VERBS = ("said", "says", "told me", "explained", "recalled", "added", "noted", "insisted",
             "admitted", "argued", "observed", "warned", "suggested")

GENERAL_NOUNS = (
    "community committee decade question budget report afternoon neighbourhood council survey "
    "project proposal deadline conversation family generation volunteer newcomer problem habit "
    "experiment weekend season crowd argument tradition workshop"
).split()

GENERAL_ADJECTIVES = (
    "small large modest ambitious familiar unusual careful quiet busy stubborn patient practical "
    "surprising expensive cheap fragile durable local regional national ordinary remarkable "
    "awkward generous narrow"
).split()

WEATHER = ("grey", "bright", "windy", "rainy", "cold", "humid", "still", "foggy", "warm")

# --------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------

TOPICS: dict[str, dict[str, object]] = {
    "energy": dict(
        section="Energy",
        nouns="turbine|tidal barrage|battery|grid|substation|solar panel|power line|wind farm|"
              "seawall|transformer|heat pump|reservoir|generator|meter|rooftop array|"
              "transmission cable|storage site|peak load|feed-in tariff|cooperative|inverter|"
              "kilowatt-hour|outage|estuary|pilot plant",
        adjectives="renewable|offshore|tidal|intermittent|reliable|cheap|carbon-free|underused|"
                   "decentralised|ageing|efficient|experimental|grid-scale|coastal|noisy",
        verbs="install|connect|store|generate|measure|subsidise|replace|upgrade|balance|finance|"
              "maintain|power|test|shut down:shut down",
        roles="an engineer|a grid operator|an energy economist|a turbine technician|"
              "a utility spokesperson|a climate researcher|a local councillor|a project manager",
        orgs="the Tidewater Energy Cooperative|Northgrid Utilities|the Halvorsen Institute|"
             "the Coastal Power Authority|Brightline Storage|the Renewable Futures Trust",
        activities="building tidal turbines|storing power in old mines|running a town on wind|"
                   "fixing the grid|pricing carbon|heating homes with heat pumps|"
                   "selling power back to the grid|planning for outages",
        units="megawatts|gigawatt-hours|kilowatts|households",
        metrics="electricity prices|peak demand|installed capacity|household bills|"
                "output from wind farms|the share of renewables",
        claims="tidal currents are far more predictable than the wind|"
               "the hardest part of the energy transition is not generation but storage|"
               "most of the grid was designed for a world of large central power stations|"
               "households with rooftop panels use the grid very differently at noon|"
               "cheap batteries have changed the economics of small wind farms|"
               "a reliable grid depends as much on forecasting as on hardware|"
               "old coal sites make surprisingly good locations for storage|"
               "the cost of offshore wind has fallen faster than anyone predicted|"
               "local ownership makes new projects far easier to approve|"
               "the biggest gains often come from wasting less energy in the first place",
        facts="The first turbine in {place} was lowered into the water in {year}, after {num} years of planning.|"
              "A single large turbine can supply roughly {num} hundred homes on a good day.|"
              "In {year}, renewables provided just under a third of the electricity used in {place}.|"
              "The cooperative now has more than {num} thousand members, each of whom owns a small share.|"
              "Engineers at {org} spent most of {year} testing cables that can survive salt water.|"
              "On the windiest night of the winter, the wind farm produced more power than the region could use.|"
              "The storage site holds enough energy to keep the lights on for about {num} hours.|"
              "Electricity demand peaks twice a day, once around breakfast and again in the early evening.",
        quotes="The tide comes in twice a day whether we like it or not, and that is exactly what a grid operator wants.|"
               "People assume the hard part is building turbines. The hard part is everything that happens after.|"
               "We used to think of the harbour as a place for boats. Now we think of it as a power station.|"
               "Nobody gets excited about transformers, but they are where the real bottlenecks are.|"
               "If you own a piece of the wind farm, you stop complaining about the view.|"
               "Storage is the quiet revolution. It does not make headlines, but it changes everything.|"
               "Every outage teaches you something. The trick is to learn it before the next storm.|"
               "A kilowatt-hour you never use is the cheapest one there is.",
        titles="Why Tidal Power Is Finally Ready for the Grid|The Town That Runs on Wind|"
               "What Happens When the Batteries Are Full|Inside the Race to Store Summer Sunshine|"
               "The Unglamorous Cables Holding Up the Energy Transition",
    ),
    "cooking": dict(
        section="Food",
        nouns="sourdough starter|cast-iron pan|stock|spice blend|dumpling|broth|loaf|braise|"
              "fermented pickle|recipe|kitchen|market stall|knife|oven|crust|dough|marinade|"
              "family recipe|roast|sauce|noodle|flatbread|cookbook|spice cupboard|lentil",
        adjectives="crisp|slow-cooked|seasonal|smoky|tangy|buttery|homemade|rustic|fragrant|"
                   "humble|silky|charred|zesty|hearty|delicate",
        verbs="knead|simmer|roast|season|ferment|bake|chop|braise|taste|grill|fold|toast|"
              "stir|serve",
        roles="a chef|a baker|a food writer|a restaurant owner|a market trader|a home cook|"
              "a nutritionist|a cookery teacher",
        orgs="the Saltmarsh Cookery School|Hearth and Harvest|the Brackenford Bakers' Guild|"
             "the Old Granary Kitchen|the Regional Food Archive|Copper Pot Supper Club",
        activities="baking bread at home|keeping a sourdough starter alive|cooking with leftovers|"
                   "making stock from scratch|fermenting vegetables|cooking for a crowd|"
                   "learning to use a wok|eating with the seasons",
        units="grams|minutes|portions|degrees",
        metrics="the price of flour|restaurant bookings|the cost of a weekly shop|sales of cookbooks",
        claims="a good stock is the foundation of most of the dishes people remember|"
               "salt, used early and with confidence, fixes more recipes than any spice|"
               "most home cooks use their ovens at far too low a temperature|"
               "fermentation is less a technique than a kind of patience|"
               "the best bread is usually made with very little yeast and a lot of time|"
               "a sharp knife is safer than a blunt one|"
               "family recipes change a little every time they are handed down|"
               "cheap cuts of meat reward slow cooking more than expensive ones|"
               "the smell of toasting spices does half the work of a good curry|"
               "leftovers are an opportunity rather than a problem",
        facts="The dough rests for at least {num} hours before it goes into the oven.|"
              "She still uses the cast-iron pan her grandmother bought in {year}.|"
              "The market in {place} has sold the same smoked fish for more than {num} decades.|"
              "A loaf of sourdough needs only flour, water, salt and time.|"
              "The cookery school in {place} teaches about {num} hundred students a year.|"
              "In {year}, the bakery sold its first loaf from a wooden hatch in the wall.|"
              "The broth simmers overnight and is skimmed three times before dawn.|"
              "Most of the vegetables come from farms within {num} miles of the kitchen.",
        quotes="You cannot rush a braise. The meat decides when it is ready, not you.|"
               "My grandmother never wrote anything down. Every recipe I have is a guess at what she did.|"
               "People are afraid of salt. They should be afraid of bland food instead.|"
               "A starter is like a pet that lives in your fridge and forgives you for forgetting it.|"
               "The first thing I teach anyone is how to hold a knife. Everything else follows.|"
               "Good cooking is mostly paying attention.|"
               "We throw away the parts of the vegetable that have the most flavour.|"
               "If the kitchen smells good, you are already halfway there.",
        titles="The Slow Comeback of the Family Kitchen|Why Your Bread Needs More Time, Not More Yeast|"
               "What a Market Stall Taught Me About Flavour|A Year of Cooking With Leftovers|"
               "The Humble Lentil Deserves Better",
    ),
    "cities": dict(
        section="Cities",
        nouns="bike lane|bus route|zoning law|housing estate|tram line|pedestrian street|"
              "parking garage|public square|council meeting|rent|neighbourhood plan|sidewalk|"
              "traffic signal|ring road|high street|library|allotment|apartment block|"
              "transit pass|planning permission|building height|green belt|storefront|"
              "commuter|crossing",
        adjectives="walkable|car-free|crowded|affordable|mixed-use|suburban|dense|historic|"
                   "pedestrianised|neglected|vibrant|sprawling|compact|well-lit|contested",
        verbs="rezone|widen|pedestrianise|build:built|demolish|redesign|fund|approve|"
              "reroute|restore|expand|survey|protect|ban",
        roles="an urban planner|a transport official|a city councillor|an architect|"
              "a housing campaigner|a shop owner|a traffic engineer|a neighbourhood organiser",
        orgs="the Marrowfield City Council|the Regional Transit Authority|Streets for People|"
             "the Civic Design Lab|the Housing Trust of Port Ellery|the Old Town Association",
        activities="closing streets to cars|building more homes near stations|"
                   "redesigning a high street|getting children to walk to school|"
                   "planning for a growing population|running buses on time|"
                   "turning car parks into parks|fighting over building heights",
        units="residents|homes|journeys a day|square metres",
        metrics="average rents|bus ridership|traffic on the ring road|the number of new homes",
        claims="wider roads tend to fill up with new traffic within a few years|"
               "shops on pedestrian streets usually do better than their owners expect|"
               "the price of housing is largely a question of what the rules allow to be built|"
               "a bus that comes every ten minutes is worth more than a new tram line on paper|"
               "children who walk to school arrive more alert than those who are driven|"
               "parking is one of the most expensive things a city provides for free|"
               "the most loved public squares are rarely the ones that cost the most|"
               "zoning rules written in the 1960s still shape most neighbourhoods today|"
               "people will cycle if they feel safe, and not otherwise|"
               "density is less frightening in practice than in planning meetings",
        facts="The high street in {place} was closed to cars on Saturdays in {year}.|"
              "About {num} thousand people cross the square on an ordinary weekday.|"
              "The council approved the new tram line by a single vote in {year}.|"
              "Average rents in {place} have roughly doubled since {year}.|"
              "The old ring road cuts the town centre off from the river.|"
              "A survey found that {pct} percent of trips in the town centre are shorter than two miles.|"
              "The library was rebuilt in {year} with a rooftop garden and a cafe.|"
              "More than {num} hundred new homes are planned on the site of the old bus depot.",
        quotes="We designed this city for cars and then wondered why nobody walks anywhere.|"
               "Every parking space is a small decision about who the street is for.|"
               "The shopkeepers were the loudest opponents. Now they are the loudest supporters.|"
               "You cannot build your way out of traffic. You can only build your way into more of it.|"
               "A good square is a room without a roof.|"
               "People do not object to density. They object to ugly buildings and no trees.|"
               "The bus is the most underrated technology in any city.|"
               "If a ten-year-old can cycle there safely, everyone can.",
        titles="What Happened When Marrowfield Closed Its High Street to Cars|"
               "The Hidden Cost of Free Parking|Why the Bus Still Matters|"
               "A City Built for Cars Tries to Learn to Walk|The Fight Over Six Storeys",
    ),
    "sports": dict(
        section="Sport",
        nouns="striker|goalkeeper|midfield|season|derby|stadium|penalty|training ground|"
              "youth academy|transfer|league table|coach|supporter|cup final|relay|marathon|"
              "time trial|peloton|scrum|half-time|away game|injury|referee|fixture|comeback",
        adjectives="relentless|injured|promoted|unbeaten|gritty|talented|young|veteran|"
                   "disciplined|tactical|dramatic|exhausted|underrated|ambitious|loyal",
        verbs="train|defend|score|coach|sign|recruit|beat:beat|win:won|lose:lost|"
              "celebrate|substitute|scout|tackle|outrun:outran",
        roles="a head coach|a former captain|a sports scientist|a club physio|"
              "a lifelong supporter|a youth coach|a match analyst|a sports journalist",
        orgs="Port Ellery Rovers|the Calder Bay Cycling Club|Westmoor Athletic|"
             "the Northern Rowing Federation|Kestrel Point Harriers|the Greywater Rugby Union",
        activities="running a first marathon|coaching a youth team|surviving relegation|"
                   "training through the winter|rebuilding a squad|keeping a small club alive|"
                   "recovering from a knee injury|riding a mountain stage",
        units="points|goals|kilometres|seconds",
        metrics="ticket prices|attendance at home games|the wage bill|the club's budget",
        claims="most matches are decided in the last fifteen minutes, when legs are tired|"
               "a good youth academy is worth more than an expensive signing|"
               "small clubs survive because of volunteers rather than sponsors|"
               "recovery matters as much as training for older athletes|"
               "the home crowd is worth roughly a goal a game|"
               "the best coaches spend more time listening than shouting|"
               "most injuries in amateur sport come from doing too much too soon|"
               "data has changed how scouts watch young players|"
               "a team that defends well rarely needs to score many|"
               "the psychology of a penalty shoot-out is mostly about the goalkeeper",
        facts="Rovers were promoted in {year} after {num} seasons in the lower league.|"
              "The stadium holds just over {num} thousand people and is usually full for the derby.|"
              "She ran her first marathon in {year}, finishing in a little under four hours.|"
              "The club's youth academy has produced {num} professional players in a decade.|"
              "The team trained on a frozen field for most of January.|"
              "In {year}, the final was decided by a single goal in stoppage time.|"
              "The cycling club in {place} has more than {num} hundred members.|"
              "The peloton covered the last {num} kilometres in under an hour.",
        quotes="You do not win the league in August, but you can certainly lose it.|"
               "The crowd carried us through the last ten minutes. I could not feel my legs.|"
               "Talent gets you noticed. Work keeps you in the team.|"
               "We lost the game and learned more than we did in a month of wins.|"
               "Every Saturday, two hundred volunteers make this club happen.|"
               "I tell the young players that the ball does not know how much you cost.|"
               "Running a marathon is easy. Training for one is the hard part.|"
               "When the whistle goes, the plan goes out of the window.",
        titles="How a Small Club Survived Relegation|What I Learned Running My First Marathon|"
               "The Academy That Keeps Producing Strikers|Inside the Dressing Room at Half-Time|"
               "Why the Home Crowd Is Worth a Goal",
    ),
    "history": dict(
        section="History",
        nouns="archive|manuscript|parish record|shipwreck|castle|treaty|letter|diary|"
              "coin hoard|map|monastery|battlefield|census|photograph|merchant|harbour|"
              "railway station|guild|charter|chronicle|emigrant|cathedral|museum|excavation|"
              "family tree",
        adjectives="forgotten|medieval|Victorian|ancient|handwritten|faded|contested|"
                   "well-preserved|obscure|colonial|industrial|rural|wartime|painstaking|"
                   "surviving",
        verbs="uncover|catalogue|restore|translate|excavate|date|reconstruct|preserve|"
              "digitise|trace|rediscover|document|transcribe|study",
        roles="a historian|an archivist|an archaeologist|a museum curator|"
              "a local historian|a genealogist|a conservator|a professor of medieval history",
        orgs="the County Records Office|the Fenmouth Historical Society|the Museum of the Morrow Coast|"
             "the Institute for Maritime History|the Stonewick Archive|the Heritage Lottery Board",
        activities="tracing a family tree|reading old letters|excavating a shipwreck|"
                   "restoring a medieval chapel|digitising a parish archive|"
                   "mapping forgotten railways|studying wartime diaries|collecting oral histories",
        units="documents|pages|artefacts|years",
        metrics="visitor numbers|the archive's budget|the number of digitised records",
        claims="most of history is written by people who happened to keep their letters|"
               "ordinary records like shopping lists reveal more than royal proclamations|"
               "the past was far more mobile than we usually imagine|"
               "many of the town's oldest buildings were moved, not built, where they stand|"
               "oral histories fill the gaps that official records leave behind|"
               "the railway changed the rhythm of rural life within a single generation|"
               "medieval merchants kept remarkably careful accounts|"
               "every archive is also a record of what people chose to throw away|"
               "the shipwreck tells us as much about the port as about the ship|"
               "family stories are usually wrong in the details and right in the essentials",
        facts="The archive holds more than {num} thousand letters, most of them never read.|"
              "The ship sank off {place} in {oldyear} with a cargo of wool and wine.|"
              "A farmer found the coin hoard in {oldyear} while repairing a fence.|"
              "The parish records of {place} go back to the early seventeenth century.|"
              "The castle changed hands {num} times during the civil war.|"
              "Her great-grandfather emigrated from {place} in {oldyear} with a single trunk.|"
              "The diary covers {num} years and fills eleven leather-bound volumes.|"
              "The museum reopened in {year} after a long restoration.",
        quotes="Every document in here was once somebody's ordinary Tuesday.|"
               "We found the letter folded inside a hymn book. Nobody had opened it in a century.|"
               "History is not just kings and battles. It is also bread prices and weather.|"
               "The hardest thing is admitting that some questions have no surviving answer.|"
               "When you hold a three-hundred-year-old map, you realise how much has been lost.|"
               "People come in looking for a famous ancestor and leave interested in a farmer.|"
               "The wreck is a time capsule. Everything on board stopped at the same moment.|"
               "Archives are fragile. One leaking roof could erase a town's memory.",
        titles="The Letters Nobody Read for a Century|What a Shipwreck Reveals About a Forgotten Port|"
               "Tracing a Family Across Three Continents|The Parish Records That Rewrote a Town's History|"
               "Why Shopping Lists Are Better Sources Than Speeches",
    ),
    "software": dict(
        section="Technology",
        nouns="compiler|database|codebase|pull request|test suite|server|bug|library|"
              "programming language|deployment|cache|query|API|framework|terminal|commit|"
              "open-source project|laptop|dependency|release|outage|configuration file|"
              "code review|container|build system",
        adjectives="legacy|open-source|distributed|fast|buggy|well-tested|modular|"
                   "readable|brittle|scalable|lightweight|undocumented|concurrent|typed|stable",
        verbs="refactor|deploy|debug|ship|compile|rewrite:rewrote|maintain|document|"
              "benchmark|profile|merge|review|automate|migrate",
        roles="a software engineer|a maintainer|a site reliability engineer|a programmer|"
              "a product manager|a security researcher|a developer advocate|a data engineer",
        orgs="Quietcircuit Labs|the Open Tooling Foundation|Redcastle Software|"
             "the Linden Falls Hackerspace|Tessellate Systems|the Civic Code Collective",
        activities="rewriting a legacy system|maintaining an open-source library|"
                   "debugging a production outage|learning a new programming language|"
                   "writing good tests|reviewing other people's code|working on call|"
                   "moving a database to the cloud",
        units="milliseconds|lines of code|requests per second|contributors",
        metrics="build times|the number of open bugs|response times|the cloud bill",
        claims="most outages are caused by configuration changes rather than code|"
               "a test suite that nobody trusts is worse than no test suite at all|"
               "readable code is cheaper to maintain than clever code|"
               "the hardest bugs usually live at the boundary between two systems|"
               "small, frequent releases are safer than large, rare ones|"
               "open-source maintainers do a great deal of unpaid work|"
               "the best documentation is written by the people who just struggled to learn something|"
               "rewriting a system from scratch almost always takes longer than planned|"
               "most performance problems come from a handful of slow queries|"
               "good tools make it easy to do the right thing and hard to do the wrong one",
        facts="The project started in {year} as a weekend experiment and now has {num} hundred contributors.|"
              "The outage lasted {num} hours and affected customers on three continents.|"
              "The rewrite cut average response times from {num} hundred milliseconds to under fifty.|"
              "In {year}, the team moved its entire database to a new cluster over one weekend.|"
              "The library is downloaded millions of times a week, yet only {num} people maintain it.|"
              "The original code base still contains functions written in {year}.|"
              "The test suite runs in about {num} minutes on a modern laptop.|"
              "A single misplaced comma in a configuration file took the service offline.",
        quotes="Every line of code you write is a line somebody has to maintain.|"
               "We did not have a performance problem. We had one query that ran a million times.|"
               "The best commit I ever made deleted four thousand lines.|"
               "If the tests are slow, people stop running them. Then the tests are useless.|"
               "Maintaining a popular library feels like running a free help desk for the whole world.|"
               "Nobody reads documentation until something breaks, and then they read every word.|"
               "The rewrite was supposed to take three months. It took two years.|"
               "Boring technology is a feature, not a bug.",
        titles="What We Learned Rewriting a Fifteen-Year-Old Codebase|The Hidden Labour of Open Source|"
               "Why Your Test Suite Is Lying to You|Anatomy of a Four-Hour Outage|"
               "In Praise of Boring Technology",
    ),
    "gardening": dict(
        section="Gardening",
        nouns="allotment|seedling|raised bed|compost heap|tomato plant|greenhouse|hedge|"
              "pollinator|perennial|vegetable patch|frost|soil|rose bush|weed|watering can|"
              "orchard|bulb|cutting|pond|wildflower meadow|slug|trellis|harvest|mulch|shrub",
        adjectives="hardy|overgrown|fertile|drought-tolerant|native|early|late|sheltered|"
                   "sunny|shady|waterlogged|neglected|blooming|productive|wild",
        verbs="plant|prune|water|sow:sowed|harvest|transplant|compost|weed|mulch|divide|"
              "propagate|grow:grew|protect|dig:dug",
        roles="a gardener|a horticulturist|an allotment holder|a garden designer|"
              "a soil scientist|a nursery owner|a beekeeper|a head gardener",
        orgs="the Thistledown Allotment Society|the Royal Horticultural Circle|Greenfinger Nurseries|"
             "the Native Seed Bank|the Oakhurst Community Garden|the Pollinator Partnership",
        activities="growing tomatoes under glass|making compost|planting for bees|"
                   "starting an allotment|saving seeds|pruning fruit trees|"
                   "gardening without chemicals|turning a lawn into a meadow",
        units="square metres|kilograms|varieties|seed packets",
        metrics="the waiting list for allotments|the price of seed potatoes|the number of bees",
        claims="healthy soil matters far more than any fertiliser|"
               "most garden plants are killed by too much water rather than too little|"
               "a small pond attracts more wildlife than almost anything else|"
               "native wildflowers need poor soil to thrive|"
               "the best time to prune most fruit trees is late winter|"
               "slugs are a sign of a healthy garden, not a failing one|"
               "saving your own seeds slowly adapts plants to your garden|"
               "a lawn is one of the least useful things a garden can contain|"
               "mulching saves more water than any clever irrigation system|"
               "gardeners learn more from their failures than from their successes",
        facts="The allotment society in {place} has a waiting list of {num} hundred people.|"
              "She planted the orchard in {year_a}, and the first apples came four years later.|"
              "A single tomato plant can produce several kilograms of fruit in a good summer.|"
              "The community garden was once a car park, and the soil had to be brought in by hand.|"
              "The seed bank stores about {num} thousand varieties of vegetables.|"
              "The last frost in {place} usually comes in late April.|"
              "In {year}, a late frost destroyed almost every blossom in the valley.|"
              "The meadow was sown in autumn and bloomed for the first time the following June.",
        quotes="Gardening teaches you that you are not in charge. The weather is.|"
               "I started with one raised bed. Now I have nine and no lawn.|"
               "Feed the soil, not the plant. The soil will look after everything else.|"
               "Every gardener kills plants. The good ones just kill them more slowly.|"
               "The bees found the meadow within a week. It was like they had been waiting.|"
               "People think weeds are the enemy. Most of them are just plants in the wrong place.|"
               "A garden is never finished, and that is the whole point.|"
               "My grandfather grew the same beans for fifty years from his own seed.",
        titles="The Quiet Joy of the Allotment|Why I Turned My Lawn Into a Meadow|"
               "A Beginner's Guide to Compost That Actually Works|What a Late Frost Taught Me|"
               "The Seed Savers Keeping Old Vegetables Alive",
    ),
    "music": dict(
        section="Music",
        nouns="album|orchestra|choir|guitar|rehearsal|concert hall|record label|songwriter|"
              "festival|vinyl record|melody|drummer|string quartet|tour|studio|chorus|"
              "busker|jazz club|playlist|conductor|venue|setlist|piano|bassline|encore",
        adjectives="acoustic|haunting|upbeat|experimental|sold-out|independent|classical|"
                   "melancholy|raw|polished|intimate|forgotten|joyful|restless|brassy",
        verbs="record|compose|perform|rehearse|tour|release|sample|remix|conduct|produce|"
              "arrange|sing:sang|write:wrote|tune",
        roles="a songwriter|a conductor|a record producer|a music critic|a festival organiser|"
              "a session drummer|a music teacher|a sound engineer",
        orgs="the Greywater Philharmonic|Lantern Hall Records|the Edgecliff Folk Festival|"
             "the Calder Bay Youth Orchestra|Basement Tapes Studio|the Harbour Jazz Collective",
        activities="recording an album in a kitchen|touring small venues|learning the piano as an adult|"
                   "running a folk festival|singing in a community choir|collecting vinyl|"
                   "writing songs for a living|conducting a youth orchestra",
        units="tracks|minutes|listeners|tickets",
        metrics="ticket sales|streaming royalties|vinyl sales|festival attendance",
        claims="the best songs are usually written quickly and rewritten slowly|"
               "small venues are where most musicians learn their craft|"
               "streaming has made it easier to be heard and harder to be paid|"
               "singing in a group measurably improves people's mood|"
               "adults can learn an instrument far better than they believe|"
               "the sound of a room matters as much as the sound of the band|"
               "most great albums were made under tight deadlines and small budgets|"
               "a good conductor listens more than they gesture|"
               "vinyl survived because people like owning something they can hold|"
               "folk songs change every time someone new sings them",
        facts="The album was recorded in {num} days in a converted barn outside {place}.|"
              "The festival started in {year} with a single stage and a few hundred tickets.|"
              "The orchestra performs about {num} concerts a year, many of them in schools.|"
              "The choir in {place} has grown to more than {num} members, none of them professionals.|"
              "In {year}, the band played {num} shows in a single month.|"
              "The jazz club has opened every night since {year}, except for one week of flooding.|"
              "The record shop sells more vinyl now than it did a decade ago.|"
              "The first rehearsal took place in a church hall with a broken piano.",
        quotes="We recorded the whole thing live, mistakes and all. The mistakes are the best bits.|"
               "Every small venue that closes is a band that never gets discovered.|"
               "I learned the piano at fifty. My only regret is not starting at forty-nine.|"
               "A song is finished when you are tired of changing it.|"
               "The audience is part of the band. You can feel when they are with you.|"
               "Streaming pays me less for a million plays than a pub paid me for one night.|"
               "When two hundred people sing the same note, something happens in the room.|"
               "The best advice I ever got was to play less and listen more.",
        titles="The Barn Where a Cult Album Was Born|Why Small Venues Matter More Than Ever|"
               "Learning the Piano at Fifty|What Streaming Really Pays|The Community Choir That Took Over a Town",
    ),
    "economics": dict(
        section="Economy",
        nouns="interest rate|inflation|wage|pension|mortgage|central bank|tariff|small business|"
              "supply chain|budget deficit|tax|recession|unemployment rate|savings account|"
              "housing market|bond|exchange rate|household income|minimum wage|trade deal|"
              "factory|productivity|loan|stock market|consumer",
        adjectives="rising|falling|stagnant|volatile|inflationary|fiscal|monetary|cautious|"
                   "sluggish|robust|uneven|long-term|short-term|regional|global",
        verbs="raise|cut:cut|borrow|lend:lent|invest|tax|regulate|forecast|export|import|"
              "stimulate|tighten|spend:spent|save",
        roles="an economist|a central banker|a small-business owner|a financial adviser|"
              "a trade negotiator|a labour researcher|a budget analyst|an investor",
        orgs="the Central Bank of Varrow|the Institute for Fiscal Clarity|the Chamber of Small Traders|"
             "the Brennan County Credit Union|the Labour Market Observatory|Harbourline Capital",
        activities="saving for a pension|running a small business|buying a first home|"
                   "negotiating a trade deal|living on the minimum wage|paying off student loans|"
                   "forecasting a recession|investing in index funds",
        units="percent|billion dollars|jobs|basis points",
        metrics="inflation|the unemployment rate|real wages|house prices|business investment",
        claims="most recessions are easier to explain afterwards than to predict beforehand|"
               "small changes in interest rates have large effects on mortgage holders|"
               "productivity growth is what ultimately makes people richer|"
               "tariffs are usually paid by domestic consumers rather than foreign exporters|"
               "wages in many regions have barely kept pace with rents|"
               "the cheapest way to invest is also, for most people, the best|"
               "small businesses create a surprising share of new jobs|"
               "expectations about inflation can become self-fulfilling|"
               "economic statistics are revised far more often than people realise|"
               "a strong currency helps importers and hurts exporters",
        facts="Inflation in {place} peaked at {pct} percent in {year}.|"
              "The central bank raised rates {num} times in eighteen months.|"
              "Around {pct} percent of small businesses in the region have fewer than ten employees.|"
              "In {year}, the average first-time buyer in {place} was thirty-four years old.|"
              "The factory employed {num} hundred people at its peak.|"
              "Real wages fell for {num} consecutive years after the financial crisis.|"
              "The trade deal took {num} years to negotiate and fills more than a thousand pages.|"
              "Household savings rose sharply in {year} and then fell back just as quickly.",
        quotes="Everyone is an economist until they have to forecast next quarter.|"
               "A rate rise that looks tiny on a chart can mean a family cancels its holiday.|"
               "I did not start a business to become an expert in tax forms, but here we are.|"
               "Inflation is a tax that nobody voted for.|"
               "The numbers say the economy is growing. My customers say otherwise.|"
               "Most people do not need a clever investment strategy. They need a boring one.|"
               "Trade deals are won or lost in the footnotes.|"
               "When the factory closed, the whole high street felt it within a year.",
        titles="What a Rate Rise Really Means for Your Mortgage|The Small Businesses Holding Up the Economy|"
               "Why Wages Have Not Kept Up With Rents|The Case for Boring Investing|"
               "When the Factory Closed: A Town Ten Years On",
    ),
    "travel": dict(
        section="Travel",
        nouns="night train|ferry|hostel|guesthouse|border crossing|mountain pass|backpack|"
              "guidebook|harbour town|hiking trail|island|railway station|market square|"
              "itinerary|road trip|coastline|campsite|village|fjord|lighthouse|sleeper carriage|"
              "passport|viewpoint|old town|bus journey",
        adjectives="remote|crowded|scenic|overlooked|off-season|windswept|sleepy|colourful|"
                   "rugged|charming|touristy|unhurried|spectacular|chilly|sun-bleached",
        verbs="explore|visit|cross|hike|book|pack|photograph|wander|discover|board|"
              "navigate|reach|leave:left|climb",
        roles="a travel writer|a tour guide|a ferry captain|a guesthouse owner|"
              "a long-distance hiker|a rail enthusiast|a photographer|a local historian",
        orgs="the Northern Rail Company|the Morrow Coast Tourist Board|Wayfarer Hostels|"
             "the Island Ferry Service|the Trail Keepers Association|Slow Road Travel",
        activities="travelling by night train|hiking a coastal trail|visiting islands out of season|"
                   "travelling without a plan|crossing a border on foot|staying in guesthouses|"
                   "taking the slow road|travelling with children",
        units="kilometres|hours|nights|passengers",
        metrics="visitor numbers|the price of a ferry ticket|hotel occupancy|passenger numbers",
        claims="the slowest way to travel is often the most memorable|"
               "most visitors never walk more than a few hundred metres from the car park|"
               "off-season travel is cheaper, quieter and often more rewarding|"
               "night trains are enjoying a revival after decades of decline|"
               "the best meals on any trip are usually the unplanned ones|"
               "small islands depend on a handful of ferry routes for almost everything|"
               "guidebooks go out of date faster than anyone admits|"
               "too many visitors can damage the places they come to admire|"
               "a good local guide changes how you see a place|"
               "travelling light is a skill that takes years to learn",
        facts="The night train leaves {place} at ten in the evening and arrives just after dawn.|"
              "The island has {num} hundred permanent residents and a single shop.|"
              "The trail covers about {num} kilometres of coastline and takes a week to walk.|"
              "The ferry runs twice a day in summer and once a day in winter.|"
              "In {year}, the village received more visitors than in the previous decade combined.|"
              "The lighthouse at {place} was automated in {year} and is now a small museum.|"
              "The mountain pass is closed by snow for roughly {num} months of the year.|"
              "The guesthouse has been run by the same family since {year}.",
        quotes="You do not take the night train to save time. You take it to lose track of it.|"
               "In winter the island belongs to us again. In summer we share it with everyone.|"
               "The best thing I ever packed was a smaller bag.|"
               "People come for the view and stay for the bakery.|"
               "If you rush through a place, you only ever see its postcards.|"
               "We had no plan, no booking and no regrets.|"
               "The ferry is our bridge, our bus and our delivery van.|"
               "Every trail has a moment where you want to turn back. That is where it gets good.",
        titles="The Return of the Night Train|An Island Out of Season|"
               "Walking the Morrow Coast in Seven Days|Why I Stopped Planning My Trips|"
               "The Ferry That Keeps an Island Alive",
    ),
    "health": dict(
        section="Health",
        nouns="clinic|nurse|patient|vaccine|waiting list|prescription|sleep|diet|blood pressure|"
              "hospital ward|general practitioner|symptom|therapy|exercise routine|trial|"
              "diagnosis|screening programme|pharmacy|ambulance|heart rate|habit|check-up|"
              "injury|recovery|immune system",
        adjectives="chronic|preventable|mild|severe|early|routine|overstretched|rural|"
                   "sedentary|balanced|clinical|mental|long-term|common|underfunded",
        verbs="diagnose|treat|prescribe|screen|vaccinate|monitor|prevent|recover|exercise|"
              "reduce|improve|study|fund|support",
        roles="a general practitioner|a nurse|an epidemiologist|a physiotherapist|"
              "a public health official|a sleep researcher|a pharmacist|a hospital manager",
        orgs="the Greywater Community Clinic|the Institute for Everyday Health|"
             "the Regional Health Board|the Sleep Research Unit|the Millbrook Cottage Hospital|"
             "the Active Ageing Network",
        activities="walking every day|getting enough sleep|cutting down on sugar|"
                   "recovering from surgery|running a rural clinic|living with chronic pain|"
                   "learning to cook healthy meals|keeping fit after sixty",
        units="patients|hours of sleep|minutes a day|milligrams",
        metrics="waiting times|rates of heart disease|the number of GPs|vaccination rates",
        claims="a daily walk does more for most people than any supplement|"
               "most adults sleep less than they need to|"
               "early diagnosis makes many common illnesses far easier to treat|"
               "loneliness is as damaging to health as many physical conditions|"
               "small, steady changes to diet last longer than dramatic ones|"
               "rural clinics struggle to recruit and keep staff|"
               "strength training becomes more important, not less, with age|"
               "many visits to emergency departments could be prevented|"
               "the placebo effect is real and surprisingly powerful|"
               "nurses are often the first to notice when a patient is getting worse",
        facts="The clinic in {place} sees about {num} hundred patients a week.|"
              "The trial followed {num} thousand adults for more than a decade.|"
              "Waiting times for routine operations roughly doubled between {year_a} and {year_b}.|"
              "The screening programme began in {year} and has since been extended to younger adults.|"
              "Adults who walked at least thirty minutes a day had noticeably lower blood pressure.|"
              "The hospital has {num} beds and serves a population spread across three valleys.|"
              "In {year}, vaccination rates in {place} reached their highest level on record.|"
              "The average patient waits {num} days for a routine appointment.",
        quotes="Half of my job is medicine. The other half is listening.|"
               "If walking were a pill, every doctor would prescribe it.|"
               "We treat the illness, but the patient has a whole life around it.|"
               "Sleep is the cheapest medicine there is, and almost nobody takes enough of it.|"
               "You cannot run a hospital on goodwill forever.|"
               "Most of the people I see are not sick. They are worried, and that matters too.|"
               "The best exercise is the one you will actually do.|"
               "A rural GP has to be ready for anything, because there is nobody else.",
        titles="The Rural Clinic Running on Goodwill|Why Sleep Is the Most Underrated Medicine|"
               "What a Decade-Long Trial Says About Walking|Strength Training After Sixty|"
               "Inside an Overstretched Emergency Department",
    ),
    "astronomy": dict(
        section="Science",
        nouns="telescope|comet|asteroid|galaxy|exoplanet|observatory|star cluster|nebula|"
              "meteor shower|eclipse|satellite|orbit|spectrum|dark sky|light curve|"
              "planetary system|moon|supernova|radio dish|star chart|lens|constellation|"
              "rover|space probe|night sky",
        adjectives="distant|faint|bright|rocky|icy|amateur|orbital|infrared|unexpected|"
                   "ancient|remote|dusty|massive|elusive|cloudless",
        verbs="observe|photograph|detect|launch|measure|track|discover|map|image|catalogue|"
              "calibrate|confirm|model|survey",
        roles="an astronomer|an astrophysicist|an amateur stargazer|a planetary scientist|"
              "a telescope operator|a mission engineer|a science communicator|a PhD student",
        orgs="the Halden Ridge Observatory|the Dark Sky Trust|the Institute for Planetary Science|"
             "the Kestrel Point Astronomical Society|the Deep Field Consortium|the Orbital Survey Group",
        activities="photographing the night sky|hunting for comets|building a backyard telescope|"
                   "searching for exoplanets|watching a total eclipse|mapping asteroids|"
                   "protecting dark skies|tracking satellites",
        units="light years|kilometres|nights of observation|degrees",
        metrics="light pollution|the number of known exoplanets|observing time",
        claims="amateur astronomers still make genuinely useful discoveries|"
               "most stars in the galaxy probably have planets|"
               "light pollution has hidden the Milky Way from most people|"
               "comets are among the oldest objects in the solar system|"
               "the atmosphere is the biggest obstacle for any ground-based telescope|"
               "small telescopes can do serious science if they watch the same patch of sky for long enough|"
               "a total eclipse is worth travelling a very long way to see|"
               "satellite constellations are changing what the night sky looks like|"
               "much of astronomy now happens at a computer rather than an eyepiece|"
               "the most exciting results often come from looking at old data again",
        facts="The observatory sits {num} hundred metres above {place}, above most of the cloud.|"
              "The comet will not return for roughly {num} thousand years.|"
              "She spotted the supernova in {year} using a telescope she built in her garage.|"
              "The survey has catalogued more than {num} thousand asteroids.|"
              "The exoplanet orbits its star every {num} days.|"
              "The last total eclipse visible from {place} happened in {year}.|"
              "On a clear night at the dark sky reserve you can see several thousand stars.|"
              "The radio dish is {num} metres across and can be steered to within a fraction of a degree.",
        quotes="Every photon we catch has been travelling longer than humans have existed.|"
               "I found my first comet from a field behind my house, wearing pyjamas.|"
               "The sky is the one laboratory everybody shares.|"
               "We spend months planning for a few minutes of totality, and it is always worth it.|"
               "Most of astronomy is waiting for clouds to clear.|"
               "When children see Saturn's rings for the first time, they always gasp.|"
               "The data we took ten years ago still has secrets in it.|"
               "A dark sky is a natural resource, just like clean water.",
        titles="The Amateur Who Found a Supernova From Her Garage|Why the Milky Way Is Disappearing|"
               "Chasing a Total Eclipse Across Three Countries|How Old Data Revealed a New Planet|"
               "A Night at the Halden Ridge Observatory",
    ),
    "education": dict(
        section="Education",
        nouns="classroom|teacher|pupil|curriculum|exam|homework|school library|timetable|"
              "reading programme|lesson plan|head teacher|playground|textbook|university|"
              "apprenticeship|tutor|school board|graduate|lecture|scholarship|school trip|"
              "report card|kindergarten|language class|seminar",
        adjectives="overcrowded|rural|selective|well-funded|underfunded|bilingual|"
                   "experimental|traditional|inclusive|demanding|after-school|vocational|"
                   "part-time|ambitious|patient",
        verbs="teach:taught|assess|mentor|tutor|inspire|enrol|examine|encourage|fund|"
              "reform|support|train|graduate|read:read",
        roles="a head teacher|a primary school teacher|an education researcher|a school inspector|"
              "a university lecturer|a parent governor|a careers adviser|a tutor",
        orgs="Ashby Crossing Primary School|the Institute of Learning Research|the Millbrook Academy|"
             "the Adult Learning Trust|the Northern Teachers' Union|the Open Library Project",
        activities="teaching children to read|learning a language as an adult|"
                   "running a village school|training new teachers|going back to university|"
                   "homeschooling through the winter|starting an apprenticeship|marking exams",
        units="pupils|teachers|lessons|hours a week",
        metrics="class sizes|teacher vacancies|exam results|school budgets",
        claims="children who are read to at home start school with a real advantage|"
               "good teachers matter more than new buildings|"
               "most adults can learn a new language given enough regular practice|"
               "apprenticeships deserve the same respect as university degrees|"
               "small class sizes help most in the earliest years|"
               "homework in primary school does less than parents expect|"
               "teachers leave the profession mainly because of workload|"
               "a well-stocked library changes how a school feels|"
               "outdoor lessons help children concentrate afterwards|"
               "the best way to learn something is to try to teach it",
        facts="The village school has {num} pupils and two full-time teachers.|"
              "The reading programme began in {year} and now runs in more than {num} schools.|"
              "Average class sizes in {place} rose to thirty-one in {year}.|"
              "More than {pct} percent of new teachers leave within five years.|"
              "The library was stocked almost entirely with donated books.|"
              "The apprenticeship lasts {num} years and ends with a recognised qualification.|"
              "In {year}, the school replaced its playground with a small forest.|"
              "The evening language classes have a waiting list every September.",
        quotes="A child who loves reading will teach themselves almost everything else.|"
               "I have taught for twenty years and I still learn something every day.|"
               "We do not need more tests. We need more time.|"
               "The best lesson I ever taught was the one where I threw away the plan.|"
               "Adults are braver learners than they think. They just need permission to be bad at first.|"
               "A school is the beating heart of a village. Close it and the village fades.|"
               "My students remember the trips, not the worksheets.|"
               "Good teaching looks effortless because of the hours nobody sees.",
        titles="The Village School That Refused to Close|Why Teachers Are Leaving|"
               "Learning a Language at Forty|What Happens When You Replace the Playground With a Forest|"
               "The Case for Apprenticeships",
    ),
    "wildlife": dict(
        section="Nature",
        nouns="otter|heron|wetland|hedgerow|badger|migration|nesting site|river|woodland|"
              "bird survey|beaver dam|salmon run|wildlife corridor|moorland|coral reef|"
              "butterfly|bat colony|seal|nature reserve|peat bog|kestrel|meadow|estuary|"
              "tree line|camera trap",
        adjectives="endangered|elusive|migratory|native|invasive|protected|nocturnal|"
                   "thriving|declining|wild|shy|resilient|fragile|restored|ancient",
        verbs="protect|reintroduce|monitor|count|tag|restore|track|rewild|photograph|record|"
              "survey|release|feed:fed|shelter",
        roles="an ecologist|a park ranger|a wildlife photographer|a conservation officer|"
              "a volunteer bird counter|a marine biologist|a farmer|a zoologist",
        orgs="the Wetland Restoration Trust|the Vell Valley Wildlife Group|the Coastal Seal Project|"
             "the National Bird Census|the Rewilding Alliance|the Peatland Partnership",
        activities="counting birds at dawn|bringing back beavers|restoring a peat bog|"
                   "tracking otters|planting hedgerows|watching the salmon run|"
                   "setting camera traps|protecting bat colonies",
        units="birds|hectares|breeding pairs|species",
        metrics="bird numbers|the area of protected land|the number of breeding pairs",
        claims="beavers can restore a wetland faster than any engineering project|"
               "hedgerows act as highways for small animals|"
               "most wildlife declines are driven by the loss of habitat|"
               "restored peat bogs store enormous amounts of carbon|"
               "otters have returned to rivers that were once too polluted for fish|"
               "volunteer surveys provide much of the data scientists rely on|"
               "farmers and conservationists want more of the same things than they admit|"
               "even small urban parks can support surprising numbers of species|"
               "invasive species often arrive by accident and spread by neglect|"
               "animals adapt to people faster than people adapt to animals",
        facts="The beavers were released on the river near {place} in {year}.|"
              "Volunteers counted {num} thousand birds on the estuary in a single morning.|"
              "The reserve covers about {num} hundred hectares of wetland and woodland.|"
              "Otters were last recorded on this stretch of river before {year}.|"
              "The bat colony in the church roof has roughly {num} hundred members.|"
              "In {year}, the salmon returned to spawn for the first time in living memory.|"
              "The camera traps recorded {num} different mammal species in a month.|"
              "The peat bog had been drained for farming and took a decade to rewet.",
        quotes="You sit in a hide for six hours and see nothing. Then an otter walks past and it was worth it.|"
               "The beavers did more in two years than we managed in twenty.|"
               "Nature comes back if you give it half a chance.|"
               "Every hedgerow is a motorway for wildlife.|"
               "We count birds because you cannot protect what you have not measured.|"
               "The farmers here were sceptical at first. Now they send me photos of the herons.|"
               "When the salmon came back, the whole village went down to the river to watch.|"
               "A healthy bog is the most boring-looking miracle on earth.",
        titles="How Beavers Rebuilt a River|The Volunteers Who Count Birds at Dawn|"
               "The Otters Are Back|Why Peat Bogs Matter More Than Forests|Life in a Hedgerow",
    ),
    "transport": dict(
        section="Transport",
        nouns="railway line|signal box|electric bus|freight train|timetable|commuter|"
              "level crossing|platform|ticket office|branch line|bus depot|charging station|"
              "electric car|motorway|cycle route|ferry terminal|cargo ship|delivery van|"
              "airport|runway|season ticket|junction|tunnel|viaduct|container",
        adjectives="electrified|overcrowded|delayed|reopened|rural|high-speed|diesel|"
                   "driverless|reliable|congested|abandoned|integrated|cross-border|late|frequent",
        verbs="electrify|reopen|timetable|delay|schedule|maintain|upgrade|cancel|connect|"
              "operate|subsidise|build:built|run:ran|replace",
        roles="a rail engineer|a bus driver|a transport planner|a signaller|a commuter|"
              "a logistics manager|a station manager|a transport economist",
        orgs="the Northern Rail Company|the Regional Transit Authority|Stonewick Freight|"
             "the Branch Line Preservation Society|the Electric Bus Partnership|the Port of Calder Bay",
        activities="reopening a branch line|electrifying a railway|commuting by bike|"
                   "running a bus service in the countryside|moving freight by rail|"
                   "driving an electric car across the country|fixing a level crossing|"
                   "designing a timetable",
        units="passengers|trains a day|kilometres|minutes",
        metrics="passenger numbers|journey times|fares|punctuality",
        claims="reopened railway lines usually carry far more passengers than forecast|"
               "a reliable timetable matters more to commuters than a fast one|"
               "electric buses are cheaper to run over their lifetime than diesel ones|"
               "most delays start with a small fault somewhere else on the network|"
               "freight moved by rail produces a fraction of the emissions of lorries|"
               "rural bus services are a lifeline for people who do not drive|"
               "building a new road rarely solves congestion for long|"
               "the last mile of a delivery is the most expensive part|"
               "charging networks have grown faster than most drivers realise|"
               "a good interchange makes two weak services into one strong one",
        facts="The branch line to {place} reopened in {year} after {num} decades of closure.|"
              "About {num} thousand passengers use the station every weekday.|"
              "The first electric buses entered service in {place} in {year}.|"
              "The viaduct has {num} arches and was completed in the nineteenth century.|"
              "A single freight train can replace roughly {num} lorries on the road.|"
              "In {year}, only {pct} percent of trains on the line arrived on time.|"
              "The signal box still uses levers installed more than a century ago.|"
              "The tunnel took {num} years to dig and cost several lives.",
        quotes="When the line reopened, people cried on the platform. It had been fifty years.|"
               "Passengers forgive a slow train. They never forgive an unreliable one.|"
               "The bus is the only way some of my passengers ever leave the village.|"
               "Every delay has a story, and usually it starts somewhere else.|"
               "We moved the freight onto rail and took a hundred lorries a day off the high street.|"
               "Electric buses are so quiet that we had to teach people to listen for them.|"
               "A timetable is a promise. Break it often enough and people stop believing you.|"
               "The railway made this town, and losing it nearly finished it.",
        titles="The Branch Line That Came Back From the Dead|Why Reliability Beats Speed|"
               "The Quiet Arrival of the Electric Bus|Inside a Victorian Signal Box|"
               "Freight, Lorries and the High Street",
    ),
    "architecture": dict(
        section="Design",
        nouns="facade|timber frame|courtyard|staircase|roof terrace|brick|concrete|window|"
              "floor plan|extension|loft|terraced house|tower block|atrium|porch|cladding|"
              "renovation|foundation|skylight|balcony|chapel|warehouse|pavilion|column|archway",
        adjectives="modernist|brutalist|timber|light-filled|listed|derelict|restored|"
                   "energy-efficient|cramped|airy|ornate|minimalist|vernacular|sturdy|draughty",
        verbs="design|renovate|restore|insulate|convert|demolish|extend|build:built|"
              "sketch|list|clad|repair|reuse|preserve",
        roles="an architect|a structural engineer|a conservation architect|a builder|"
              "a planning officer|an interior designer|a stonemason|a carpenter",
        orgs="the Society for Old Buildings|Beam and Stone Architects|the Civic Design Lab|"
             "the Timber Building Institute|the Redcastle Preservation Trust|Fieldhouse Studio",
        activities="restoring a Victorian terrace|building with timber|converting a warehouse|"
                   "insulating an old house|designing a small home|saving a brutalist tower|"
                   "living in a listed building|building a house by hand",
        units="square metres|storeys|bricks|years",
        metrics="construction costs|the number of listed buildings|energy use in homes",
        claims="the greenest building is usually the one that already exists|"
               "good daylight does more for a home than expensive finishes|"
               "timber buildings can be as safe and durable as concrete ones|"
               "many loved buildings were unpopular when they were first built|"
               "small homes can feel generous if they are designed well|"
               "most of the energy a building uses is lost through its roof and windows|"
               "old warehouses make unusually adaptable homes and offices|"
               "craft skills like stonemasonry are disappearing faster than buildings|"
               "the cheapest design decision is the one made before construction starts|"
               "a building should be judged by how it ages, not how it opens",
        facts="The warehouse was built in {year} to store grain and later converted into {num} flats.|"
              "The tower has {num} storeys and was nearly demolished in {year}.|"
              "The house in {place} was built almost entirely from reclaimed timber.|"
              "Restoring the facade took {num} stonemasons more than two years.|"
              "The chapel's roof had not been repaired since {year}.|"
              "The extension added {num} square metres and a skylight over the kitchen.|"
              "In {year}, the council listed the building after a public campaign.|"
              "The terrace was insulated from the inside to keep its original brick front.",
        quotes="We spent more time deciding where the windows should go than on anything else.|"
               "Every old building is a record of the people who repaired it.|"
               "The tower was hated for forty years. Now people queue to live in it.|"
               "Light is the cheapest building material there is.|"
               "You cannot fake craftsmanship. Stone tells you when you have rushed it.|"
               "Demolition throws away all the carbon that went into the original building.|"
               "A small house forces you to decide what really matters.|"
               "Good buildings are polite to the street.",
        titles="The Tower Nobody Wanted, Until They Did|Why the Greenest Building Already Exists|"
               "Building a House From Reclaimed Timber|The Last Stonemasons|"
               "Small Homes, Big Ideas",
    ),
    "books": dict(
        section="Culture",
        nouns="novel|poem|bookshop|library|author|translator|publisher|short story|"
              "reading group|manuscript|memoir|bestseller|chapter|literary prize|paperback|"
              "protagonist|editor|book tour|anthology|bookshelf|first edition|debut|"
              "audiobook|literary festival|poet",
        adjectives="bestselling|debut|translated|out-of-print|independent|experimental|"
                   "forgotten|acclaimed|slim|sprawling|lyrical|bleak|funny|tender|ambitious",
        verbs="write:wrote|publish|translate|edit|read:read|review|recommend|adapt|"
              "shortlist|reprint|illustrate|narrate|discover|rediscover",
        roles="a novelist|a translator|a bookseller|a literary critic|a poet|a publisher|"
              "an editor|a librarian",
        orgs="Lantern Street Books|the Fenmouth Literary Festival|Driftwood Press|"
             "the Translators' Guild|the Open Library Project|the Linden Falls Reading Circle",
        activities="writing a first novel|running an independent bookshop|translating poetry|"
                   "reading a book a week|starting a reading group|rediscovering forgotten authors|"
                   "publishing a small press|writing every morning before work",
        units="copies|pages|readers|titles",
        metrics="book sales|library visits|the number of independent bookshops",
        claims="independent bookshops survive by being places as well as shops|"
               "translation is a creative act rather than a mechanical one|"
               "most first novels are rewritten several times before anyone reads them|"
               "reading groups keep many small publishers afloat|"
               "short stories are harder to write well than novels|"
               "audiobooks have brought reading back into many busy lives|"
               "forgotten books are often forgotten for reasons that have little to do with quality|"
               "a good editor is invisible to the reader|"
               "libraries are among the last free indoor public spaces|"
               "the books people love as teenagers shape them for life",
        facts="The novel sold only {num} hundred copies when it was first published in {year}.|"
              "The bookshop in {place} has survived two floods and a fire.|"
              "She wrote the first draft in {num} months, mostly on the train to work.|"
              "The translation took {num} years and won a prize in {year}.|"
              "The festival began in {year} in the back room of a pub.|"
              "The library lends more than {num} thousand books a year.|"
              "The small press publishes {num} titles a year, most of them in translation.|"
              "The memoir was turned down by eleven publishers before it found a home.",
        quotes="I wrote the book I wanted to read and could not find.|"
               "A bookshop is a place where you go to find something you did not know you wanted.|"
               "Translating a poem is like moving a house. Something always breaks in the van.|"
               "My editor cut a hundred pages and the book got better on every one of them.|"
               "People still want to hold a book. They just want to be able to afford it.|"
               "The reading group has met every month for twenty years. We argue every single time.|"
               "The first draft is just you telling yourself the story.|"
               "Libraries are the only places left where nobody expects you to buy anything.",
        titles="The Bookshop That Survived Everything|Why Translation Is an Art|"
               "The Forgotten Novel Everyone Is Reading Again|Writing a Book on the Morning Train|"
               "What Libraries Are For",
    ),
    "maritime": dict(
        section="Coast",
        nouns="fishing boat|harbour|trawler|lifeboat|quay|catch|net|tide|storm|crew|"
              "lighthouse keeper|fish market|shipyard|sail|mooring|skipper|oyster bed|"
              "coastguard|dock|sea wall|buoy|wreck|gale|fishing quota|boatbuilder",
        adjectives="weathered|stormy|sheltered|salt-stained|sea-going|traditional|"
                   "wooden|busy|quiet|treacherous|calm|tidal|overfished|sustainable|hardy",
        verbs="sail|fish|haul|repair|launch|moor|rescue|navigate|build:built|land|"
              "auction|patrol|dredge|mend",
        roles="a skipper|a lifeboat volunteer|a boatbuilder|a fisheries scientist|"
              "a harbour master|a fishmonger|a coastguard officer|a marine engineer",
        orgs="the Fenmouth Lifeboat Station|the Port Ellery Fishermen's Association|"
             "the Coastal Seal Project|the Morrow Coast Boatyard|the Sustainable Catch Council|"
             "the Harbour Heritage Trust",
        activities="fishing in winter|building wooden boats|volunteering on a lifeboat|"
                   "running a fish market|farming oysters|sailing across the bay|"
                   "repairing old sails|keeping a harbour open",
        units="tonnes|nautical miles|boats|crew members",
        metrics="fish prices|the size of the catch|the number of working boats",
        claims="small fishing fleets are more sustainable than large ones|"
               "most lifeboat crews are volunteers who hold down ordinary jobs|"
               "oyster beds clean the water they grow in|"
               "wooden boatbuilding survives because a few people refuse to let it die|"
               "fishing quotas have helped some stocks recover|"
               "the sea punishes impatience more than inexperience|"
               "harbour towns depend on tourists in summer and fishermen in winter|"
               "storms are becoming harder to predict along this coast|"
               "a working harbour smells of diesel, rope and fish, and always has|"
               "young people are slowly returning to the fishing trade",
        facts="The lifeboat at {place} was launched {num} times last year.|"
              "The harbour has been dredged every spring since {year}.|"
              "The boatyard builds about {num} wooden boats a year, each one by hand.|"
              "In {year}, a winter gale destroyed half of the moorings in the bay.|"
              "The fish market opens at five in the morning and is empty by eight.|"
              "The oyster beds cover roughly {num} hectares of the estuary.|"
              "There were {num} working boats in the harbour in {year}; there are far fewer today.|"
              "The skipper has fished the same waters for more than thirty years.",
        quotes="The sea does not care how experienced you are.|"
               "When the pager goes, you drop everything. Dinner, work, all of it.|"
               "A wooden boat is alive. It moves, it creaks, it needs looking after.|"
               "We only take what the sea can spare.|"
               "My father fished here, and his father before him. I want my daughter to have the choice.|"
               "On a bad night the harbour lights are the most beautiful thing in the world.|"
               "Oysters are the easiest animals to farm. They just need clean water and patience.|"
               "Every storm moves the sand, so every spring we learn the harbour again.",
        titles="A Night With the Volunteer Lifeboat Crew|The Last Wooden Boatbuilders|"
               "Can Small Fishing Fleets Survive?|The Oyster Farmers Cleaning Up the Estuary|"
               "Winter in a Working Harbour",
    ),
    "games": dict(
        section="Games",
        nouns="chess club|board game|opening|endgame|tournament|puzzle|crossword|"
              "grandmaster|card game|dice|strategy|rulebook|game night|video game|"
              "speedrun|leaderboard|pawn|checkmate|team|controller|level|puzzle hunt|"
              "game designer|prototype|expansion",
        adjectives="competitive|cooperative|casual|fiendish|elegant|classic|indie|"
                   "beginner-friendly|tactical|addictive|obscure|clever|tense|balanced|retro",
        verbs="play|design|solve|win:won|lose:lost|teach:taught|playtest|publish|"
              "analyse|practise|compete|memorise|rank|host",
        roles="a game designer|a chess coach|a crossword setter|a tournament organiser|"
              "a professional player|a board game cafe owner|a puzzle writer|a streamer",
        orgs="the Redcastle Chess Club|Meeple House Games|the Puzzle Setters' Circle|"
             "the Northern Go Association|Pixelwright Studios|the Friday Night Game Club",
        activities="learning chess as an adult|designing a board game|solving cryptic crosswords|"
                   "running a game night|playing in a tournament|speedrunning an old game|"
                   "teaching children strategy games|writing puzzles",
        units="players|moves|rounds|copies",
        metrics="membership of chess clubs|sales of board games|tournament entries",
        claims="the best games are easy to learn and hard to master|"
               "chess improves more through playing slow games than fast ones|"
               "board games have enjoyed a revival as people look for screen-free evenings|"
               "a good puzzle feels unfair until the moment it is solved|"
               "most game designs go through dozens of prototypes|"
               "cooperative games suit families better than competitive ones|"
               "the endgame is the most neglected part of most players' study|"
               "crossword setters hide a lot of personality in their clues|"
               "older video games are often more inventive than newer ones|"
               "losing is the fastest way to improve at almost any game",
        facts="The chess club in {place} has met every Tuesday since {year}.|"
              "The game went through {num} prototypes before it was published.|"
              "The tournament attracted {num} hundred players from across the region.|"
              "She set her first crossword in {year} and has published thousands since.|"
              "The cafe stocks more than {num} hundred board games.|"
              "The speedrun record fell by {num} seconds in a single year.|"
              "In {year}, a twelve-year-old won the club championship.|"
              "The puzzle hunt takes a full weekend and sends teams across the whole town.",
        quotes="Chess is a game you can lose in a hundred ways and win in only a few.|"
               "The first prototype was cut out of cereal boxes on my kitchen table.|"
               "A clue should make you groan and smile at the same time.|"
               "People come for the games and stay for each other.|"
               "I have lost thousands of games. Every one of them taught me something.|"
               "Good rules get out of the way so the players can have fun.|"
               "My daughter beat me for the first time last week. I have never been prouder.|"
               "The best moment in any puzzle is the one just before you understand it.",
        titles="The Chess Club That Never Missed a Tuesday|How a Board Game Goes From Kitchen Table to Shop|"
               "Inside the Mind of a Crossword Setter|Why Losing Makes You Better|"
               "The Return of Game Night",
    ),
    "climate": dict(
        section="Environment",
        nouns="flood defence|heatwave|drought|glacier|rainfall|sea level|carbon budget|"
              "weather station|emissions target|wildfire|river basin|ice core|storm surge|"
              "tree planting scheme|climate model|carbon tax|coastline|monsoon|water table|"
              "reservoir|insurance claim|crop yield|permafrost|forecast|temperature record",
        adjectives="record-breaking|extreme|gradual|irreversible|coastal|arid|"
                   "low-lying|unprecedented|seasonal|warming|resilient|vulnerable|measurable|"
                   "long-term|catastrophic",
        verbs="measure|model|adapt|reduce|predict|record|flood|warm|cool|restore|"
              "insure|relocate|plant|monitor",
        roles="a climate scientist|a hydrologist|a flood engineer|a farmer|"
              "an insurance analyst|a meteorologist|a glaciologist|a policy adviser",
        orgs="the Institute for Climate Resilience|the Vell Valley Flood Board|"
             "the Glacier Monitoring Network|the Coastal Adaptation Fund|"
             "the Regional Weather Service|the Carbon Accounts Office",
        activities="adapting to rising seas|measuring glaciers|farming through drought|"
                   "planting trees on hillsides|building flood defences|"
                   "moving a village inland|forecasting heatwaves|cutting household emissions",
        units="millimetres|degrees|tonnes of carbon|hectares",
        metrics="average temperatures|sea levels|insurance claims|rainfall",
        claims="heatwaves have become both more frequent and more intense|"
               "planting trees upstream can reduce flooding downstream|"
               "insurance prices are already reflecting climate risk|"
               "adaptation is cheaper when it begins early|"
               "glaciers are the clearest thermometers we have|"
               "most emissions come from a small number of everyday activities|"
               "farmers are adapting faster than policy|"
               "low-lying coastal towns face difficult choices within a generation|"
               "climate models have been broadly right about the warming we now see|"
               "cities are several degrees hotter than the countryside around them",
        facts="The glacier above {place} has retreated about {num} hundred metres since {year}.|"
              "The flood defences were completed in {year} and tested within a month.|"
              "Summer rainfall in the valley has fallen by roughly {pct} percent in a generation.|"
              "The weather station in {place} has kept daily records since {year}.|"
              "The heatwave of {year} set new temperature records at {num} stations.|"
              "Sea level along this coast has risen by several centimetres in two decades.|"
              "The tree planting scheme has put more than {num} thousand saplings into the hills.|"
              "The village is expected to move inland within {num} years.",
        quotes="The glacier is the most honest witness we have. It cannot lie about the temperature.|"
               "We planted trees on the hills and the river stopped flooding the high street.|"
               "My grandfather farmed this land with rain he could count on. I cannot.|"
               "The insurers worked it out before the politicians did.|"
               "Adaptation is not giving up. It is being realistic.|"
               "Every tenth of a degree matters. That is not rhetoric, it is physics.|"
               "We used to get a big flood once in a lifetime. Now we get one every few years.|"
               "The best time to build a flood wall was twenty years ago. The second best is now.",
        titles="The Village That Is Moving Inland|What the Glacier Remembers|"
               "How Trees Upstream Saved a High Street|Farming When the Rain Stops Coming|"
               "The Insurers Saw It Coming",
    ),
    "biology": dict(
        section="Science",
        nouns="cell|gene|protein|microscope|laboratory|bacterium/bacteria|enzyme|"
              "experiment|sample|fruit fly|genome|mutation|immune cell|petri dish|"
              "research grant|peer review|fungus/fungi|virus|tissue|neuron|molecule|"
              "clinical trial|lab notebook|hypothesis|data set",
        adjectives="microscopic|genetic|cellular|surprising|reproducible|novel|"
                   "peer-reviewed|preliminary|resistant|harmless|complex|fundamental|"
                   "elegant|unexplained|experimental",
        verbs="sequence|culture|observe|isolate|test|measure|publish|replicate|stain|"
              "model|identify|engineer|study|grow:grew",
        roles="a molecular biologist|a geneticist|a microbiologist|a lab technician|"
              "a neuroscientist|a postdoctoral researcher|a science writer|a journal editor",
        orgs="the Halvorsen Institute|the Centre for Cell Biology|the Northern Genome Project|"
             "the Microbe Archive|the Oakhurst University Medical School|the Open Science Trust",
        activities="sequencing a genome|growing bacteria in a lab|repeating a famous experiment|"
                   "studying fruit flies|searching for new antibiotics|mapping the brain|"
                   "running a clinical trial|publishing negative results",
        units="samples|base pairs|microns|cells",
        metrics="research funding|the cost of sequencing|the number of retracted papers",
        claims="most scientific progress comes from many small, careful experiments|"
               "bacteria in the soil are a largely untapped source of new medicines|"
               "negative results deserve to be published as much as positive ones|"
               "the cost of reading a genome has fallen faster than the cost of computing|"
               "many findings in biology fail to replicate in a second laboratory|"
               "fruit flies share a surprising number of genes with humans|"
               "good science depends on boring, meticulous record keeping|"
               "fungi form vast networks that connect the roots of trees|"
               "antibiotic resistance is one of the slowest-moving emergencies we face|"
               "the immune system remembers infections for decades",
        facts="The laboratory in {place} sequences about {num} hundred samples a week.|"
              "The first draft of the genome took {num} years and cost a fortune; today it takes a day.|"
              "The bacterium was isolated from a handful of soil collected in {year}.|"
              "The team repeated the experiment {num} times before they trusted the result.|"
              "In {year}, the institute opened a new wing devoted to infectious disease.|"
              "The study followed {num} thousand fruit flies across forty generations.|"
              "The microscope can resolve structures smaller than a thousandth of a millimetre.|"
              "The paper was rejected twice before it was published in {year}.",
        quotes="Most days in the lab, nothing works. Then one day something does, and you remember why you do it.|"
               "A result is not a result until somebody else can reproduce it.|"
               "We found the antibiotic in a spoonful of dirt from a car park.|"
               "The flies do not care about our hypotheses. They just do what flies do.|"
               "Publishing a negative result saves the next person a year of their life.|"
               "Every cell in your body is running a program billions of years old.|"
               "The best experiments are the simple ones nobody thought to try.|"
               "Science is a conversation, and peer review is how we argue politely.",
        titles="The Antibiotic Found in a Car Park|Why So Many Experiments Fail to Replicate|"
               "What Fruit Flies Teach Us About Ourselves|The Hidden Network Under the Forest|"
               "In Praise of Negative Results",
    ),
}

# --------------------------------------------------------------------------------------
# Extra lexical variety shared by all topics: generated place names and "colour" sentences
# (scene, mood and detail), which real feature writing is full of and which widen the
# vocabulary a tokenizer sees beyond each topic's technical words.
# --------------------------------------------------------------------------------------

PLACE_PREFIXES = (
    "Ash Bram Cold Dun Elm Fair Glen Hal Kings Lang Mar Nor Oak Pen Ros Stan Thorn Wes Wick Yar "
    "Bel Car Dal Fen Gar Hol Kel Lyn Mel Ned Ox Pem Rad Sel Tor Ul Vin Wal Bex Crag"
).split()
PLACE_SUFFIXES = (
    "ford bury ton wick mouth field ham ley stead haven by mere dale cross port worth bridge combe "
    "hurst well thorpe minster brook gate"
).split()

EVERYDAY_OBJECTS = (
    "kitchen table|battered notebook|mug of tea|rain-streaked window|rusting bicycle|filing cabinet|"
    "narrow corridor|folding chair|whiteboard covered in arrows|pile of invoices|thermos of coffee|"
    "laminated map|shoebox of photographs|dog-eared paperback|pair of muddy boots|radio tuned to the news|"
    "stack of cardboard boxes|spreadsheet printed on yellowing paper|wall calendar|biscuit tin|"
    "second-hand sofa|cork noticeboard|set of keys|wheelbarrow|ring binder"
).split("|")

FEELINGS = (
    "pride and exhaustion|relief and disbelief|impatience and hope|amusement and irritation|"
    "caution and curiosity|gratitude and fatigue|determination and doubt"
).split("|")

COLOUR_SENTENCES = (
    "Rain drummed on the roof as we talked, and nobody seemed to notice.",
    "On the {old_thing} in the corner sits a {object}, which {P} uses more than any computer.",
    "There is a mixture of {feeling} in {pposs} voice.",
    "{Pron} pours two cups of tea before answering.",
    "The {object} on the desk has clearly seen better days.",
    "Outside, a delivery van reverses noisily into the yard.",
    "{P} speaks quickly, then stops, as if checking each sentence before letting it go.",
    "It is the kind of place where everyone seems to know everyone else by their first name.",
    "A dog wanders in, inspects the visitors and wanders out again.",
    "By late afternoon the light has turned gold and the room has gone quiet.",
    "{Pron} keeps a {object} within reach, just in case.",
    "The walls are covered with photographs, certificates and the occasional child's drawing.",
    "Somewhere down the corridor, a telephone rings and rings.",
    "{P} apologises for the mess, although there is hardly any.",
    "The first volunteers turned up with a {object}, a {object} and not much else.",
    "We walk along the {walkway} while {P} points out what has changed.",
    "{Pron} laughs, a little ruefully, when I mention the early mistakes.",
    "It is colder inside than out, and everyone keeps their coat on.",
    "The conversation keeps drifting back to money, as conversations here usually do.",
    "Half an hour later, {pron} is still explaining, and I am still taking notes.",
    "There are no grand speeches, just a lot of quiet, careful work.",
    "A handwritten sign on the door reads: Back in ten minutes.",
)
OLD_THINGS = ("shelf", "windowsill", "desk", "filing cabinet", "mantelpiece", "workbench")
WALKWAYS = ("river path", "high street", "old railway line", "harbour wall", "edge of the park", "main road")
