"""Demo data: locations and channels of the demo clients, monthly waves and the visits of the
last six months, and the current assignments of both demo evaluators.

Visits are created here as assignments (status ``assigned``); ``submissions/demo.py`` then
answers them and moves them on (in progress, submitted, returned, approved) following the plan
left in ``ctx["demo_visit_plan"]``. Idempotent: locations and channels are found again by
name, and a client that already has visits gets no new ones. Flushes only.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select

from ..core.models import db
from . import operations, registers
from .models import ClientChannel, Location, Visit, Wave

# --- what the demo clients look like --------------------------------------------------------------

BANK = "Pohjolan Pankki"
HOTEL = "Järvenrannan Hotellit"

LOCATIONS = {
    BANK: [
        ("Kamppi", "Urho Kekkosen katu 4", "Helsinki", "Uusimaa"),
        ("Tapiola", "Tapionraitti 5", "Espoo", "Uusimaa"),
        ("Tampereen keskusta", "Hämeenkatu 12", "Tampere", "Pirkanmaa"),
        ("Turun Kauppatori", "Eerikinkatu 9", "Turku", "Varsinais-Suomi"),
        ("Oulun Rotuaari", "Kirkkokatu 20", "Oulu", "Pohjois-Pohjanmaa"),
        ("Jyväskylän Kompassi", "Kauppakatu 18", "Jyväskylä", "Keski-Suomi"),
    ],
    HOTEL: [
        ("Hotelli Näsijärvi", "Näsikatu 3", "Tampere", "Pirkanmaa"),
        ("Hotelli Kallavesi", "Satamakatu 7", "Kuopio", "Pohjois-Savo"),
        ("Hotelli Vesijärvi", "Ankkurikatu 2", "Lahti", "Päijät-Häme"),
        ("Hotelli Saimaa", "Olavinkatu 30", "Savonlinna", "Etelä-Savo"),
        ("Hotelli Päijänne", "Satamakatu 1", "Jyväskylä", "Keski-Suomi"),
    ],
}

CHANNELS = {
    BANK: [
        ("in_person", "Konttorit", ""),
        ("phone", "Asiakaspalvelu", "0200 123 456"),
        ("chat", "Verkkopankin chat", "https://pohjolanpankki.example/chat"),
        ("email", "Asiakaspalvelun sähköposti", "asiakaspalvelu@pohjolanpankki.example"),
        ("social", "Facebook", "facebook.com/pohjolanpankki"),
        ("web", "Verkkopankki", "https://pohjolanpankki.example/verkkopankki"),
    ],
    HOTEL: [
        ("in_person", "Hotellien vastaanotot", ""),
        ("phone", "Myyntipalvelu", "010 765 4321"),
        ("chat", "Varaussivun chat", "https://jarvenranta.example/chat"),
        ("email", "Varaukset", "varaukset@jarvenranta.example"),
        ("social", "Instagram", "@jarvenrannanhotellit"),
        ("web", "Verkkovaraus", "https://jarvenranta.example/varaa"),
    ],
}

#: scenarios per client and channel: (Finnish, English); an evaluator gets them in their language
SCENARIOS = {
    BANK: {
        "in_person": [
            ("Asioi 70-vuotiaana, joka haluaa siirtää eläkkeen maksupäivää ja kysyy, tarvitaanko siihen "
             "verkkopankkitunnuksia.",
             "Visit as a 70-year-old who wants to move a pension payment date and asks whether online-bank "
             "credentials are needed for it."),
            ("Kysy asuntolainan lyhennysvapaasta: olet lomautettu kolmeksi kuukaudeksi.",
             "Ask about a repayment holiday on a mortgage: you have been laid off for three months."),
            ("Tiedustele nuoren ensimmäistä säästötiliä ja rahastosäästämistä 18-vuotiaalle lapsellesi.",
             "Ask about a first savings account and fund savings for your 18-year-old child."),
        ],
        "phone": [
            ("Soita ja kerro, että pankkikorttisi on kadonnut ulkomailla. Kysy, miten saat uuden kortin "
             "ennen kotiinpaluuta.",
             "Call to say your bank card was lost abroad. Ask how to get a new card before you return home."),
            ("Soita 70-vuotiaana, joka haluaa siirtää eläkkeen maksupäivää. Et käytä verkkopankkia.",
             "Call as a 70-year-old who wants to move a pension payment date. You do not use the online bank."),
        ],
        "chat": [
            ("Kysy chatissa, miksi tililtäsi on veloitettu tuntematon 29,90 euron maksu.",
             "Ask in the chat why your account shows an unknown charge of 29.90 euros."),
        ],
        "email": [
            ("Lähetä sähköposti ja pyydä tarjousta autolainasta 15 000 eurolle. Älä lähetä henkilötunnusta.",
             "Send an email asking for an offer for a 15,000 euro car loan. Do not send your personal ID."),
        ],
        "social": [
            ("Kysy pankin Facebook-sivulla, miksi mobiilisovellus ei avaudu päivityksen jälkeen.",
             "Ask on the bank's Facebook page why the mobile app no longer opens after the update."),
        ],
        "web": [
            ("Yritä nostaa kortin verkko-ostorajaa verkkopankissa ilman neuvojan apua.",
             "Try to raise your card's online purchase limit in the online bank without help."),
        ],
    },
    HOTEL: {
        "in_person": [
            ("Kirjaudu sisään perjantai-iltana ja pyydä hiljaisempaa huonetta. Kysy aamiaisen gluteenittomista "
             "vaihtoehdoista.",
             "Check in on a Friday evening and ask for a quieter room. Ask about gluten-free breakfast options."),
            ("Valita vastaanotossa, että huoneen ilmastointi pitää kovaa ääntä, ja pyydä ratkaisua.",
             "Complain at the reception that the room's air conditioning is noisy, and ask for a solution."),
        ],
        "phone": [
            ("Soita ja varaa kahden hengen huone kahdeksi yöksi. Kysy pyörätuolilla esteettömästä huoneesta.",
             "Call to book a double room for two nights. Ask for a room accessible by wheelchair."),
            ("Soita ja pyydä perumaan varaus 24 tuntia ennen saapumista. Kysy, palautetaanko ennakkomaksu.",
             "Call to cancel a booking 24 hours before arrival. Ask whether the prepayment is refunded."),
        ],
        "chat": [
            ("Kysy chatissa, voiko koiran tuoda hotelliin ja mitä se maksaa.",
             "Ask in the chat whether you can bring a dog to the hotel and what it costs."),
        ],
        "email": [
            ("Pyydä sähköpostilla tarjous 12 hengen kokoukselle ja illalliselle ensi kuussa.",
             "Ask by email for an offer for a meeting and dinner for 12 people next month."),
        ],
        "social": [
            ("Kysy Instagramissa, onko kylpylä auki juhannuksena.",
             "Ask on Instagram whether the spa is open at Midsummer."),
        ],
        "web": [
            ("Varaa verkossa huone kahdelle aikuiselle ja lapselle ja lisää varaukseen lisävuode.",
             "Book a room online for two adults and a child and add an extra bed to the booking."),
        ],
    },
}

#: how good each client is (the share of answers that go well) at the start and end of the half year
QUALITY = {BANK: (0.6, 0.85), HOTEL: (0.88, 0.68)}
#: a location's own level around its client's
LOCATION_BIAS = {
    "Kamppi": 0.05, "Tapiola": 0.0, "Tampereen keskusta": 0.03, "Turun Kauppatori": -0.08,
    "Oulun Rotuaari": -0.03, "Jyväskylän Kompassi": 0.06,
    "Hotelli Näsijärvi": 0.05, "Hotelli Kallavesi": -0.02, "Hotelli Vesijärvi": -0.09, "Hotelli Saimaa": 0.04,
    "Hotelli Päijänne": 0.0,
}
CHANNEL_WEIGHTS = {"in_person": 40, "phone": 25, "chat": 10, "email": 10, "social": 5, "web": 10}

APPROVED_PER_CLIENT = {BANK: 48, HOTEL: 40}
HISTORY_DAYS = 180


def _location(client, name, address, city, region) -> Location:
    row = db.session.scalar(select(Location).where(Location.client_id == client.id, Location.name == name))
    return row or registers.create_location(client, name=name, address=address, city=city, region=region)


def _channel(client, channel, label, contact) -> ClientChannel:
    row = db.session.scalar(select(ClientChannel).where(
        ClientChannel.client_id == client.id, ClientChannel.channel == channel, ClientChannel.label == label))
    return row or registers.create_client_channel(client, channel=channel, label=label, contact=contact)


def _scenario(rng: random.Random, client_name: str, channel: str, evaluator) -> str:
    fi, en = rng.choice(SCENARIOS[client_name][channel])
    return en if getattr(evaluator, "language", "fi") == "en" else fi


def _wave(client, version, month_start: date, cache: dict) -> Wave:
    key = (month_start.year, month_start.month)
    if key not in cache:
        next_month = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
        wave = Wave(client_id=client.id, name=f"{client.name} {month_start:%m/%Y}", checklist_version_id=version.id,
                    period_start=month_start, period_end=next_month - timedelta(days=1))
        db.session.add(wave)
        db.session.flush()
        cache[key] = wave
    return cache[key]


def _quality(client_name: str, location: Location | None, visited_on: date, today: date,
             rng: random.Random) -> float:
    start, end = QUALITY[client_name]
    progress = 1 - (today - visited_on).days / HISTORY_DAYS
    level = start + (end - start) * max(0.0, min(1.0, progress))
    level += LOCATION_BIAS.get(location.name, 0.0) if location else 0.0
    return max(0.25, min(0.98, level + rng.gauss(0, 0.06)))


def _plan_client(client, version, evaluators, locations, channels, today: date, rng: random.Random) -> list[dict]:
    plan: list[dict] = []
    name = client.name
    by_channel = {c.channel: c for c in channels}
    codes, weights = zip(*CHANNEL_WEIGHTS.items(), strict=True)
    waves: dict = {}

    def visit(channel, evaluator, due_from, due_to, location=None, wave=None) -> Visit:
        if channel == "in_person" and location is None:
            location = rng.choice(locations)
        return operations.create_visit(
            client=client, channel=channel, version=version, evaluator=evaluator, due_from=due_from, due_to=due_to,
            location=location, client_channel=by_channel.get(channel), scenario=_scenario(rng, name, channel, evaluator),
            wave=wave,
        )

    # the last six months: approved visits, in monthly waves
    for i in range(APPROVED_PER_CLIENT.get(name, 40)):
        visited_on = today - timedelta(days=rng.randint(3, HISTORY_DAYS))
        channel = rng.choices(codes, weights)[0]
        location = rng.choice(locations) if channel == "in_person" else None
        month_start = visited_on.replace(day=1)
        wave = _wave(client, version, month_start, waves)
        evaluator = evaluators[i % len(evaluators)]
        row = visit(channel, evaluator, wave.period_start, wave.period_end, location, wave)
        plan.append({"visit": row, "outcome": "approved", "visited_on": visited_on,
                     "quality": _quality(name, row.location, visited_on, today, rng)})

    # today's work: for each evaluator two to do, one half done; one waiting for QA; one returned
    for n, evaluator in enumerate(evaluators):
        for days, channel in ((3, "in_person"), (9, "phone")):
            plan.append({"visit": visit(channel, evaluator, today, today + timedelta(days=days + n)),
                         "outcome": "assigned"})
        plan.append({"visit": visit(("chat", "in_person")[n % 2], evaluator, today - timedelta(days=3),
                                    today + timedelta(days=1 + n)),
                     "outcome": "in_progress", "visited_on": today, "quality": 0.8})
    plan.append({"visit": visit("phone", evaluators[0], today - timedelta(days=7), today - timedelta(days=1)),
                 "outcome": "submitted", "visited_on": today - timedelta(days=2), "quality": 0.7})
    plan.append({"visit": visit("in_person", evaluators[-1], today - timedelta(days=10), today + timedelta(days=2)),
                 "outcome": "returned", "visited_on": today - timedelta(days=4), "quality": 0.75})
    return plan


def load(ctx: dict) -> None:
    clients = ctx.get("clients") or {}
    evaluators = ctx.get("evaluators") or []
    version = ctx.get("starter_version")
    today = ctx.get("today") or date.today()
    plan: list[dict] = []
    ctx["demo_visit_plan"] = plan
    for index, (name, client) in enumerate(sorted(clients.items())):
        locations = [_location(client, *row) for row in LOCATIONS.get(name, [])]
        channels = [_channel(client, *row) for row in CHANNELS.get(name, [])]
        if version is None or not evaluators or not locations or name not in SCENARIOS:
            continue
        if db.session.scalar(select(func.count()).select_from(Visit).where(Visit.client_id == client.id)):
            continue  # already there: a second run adds nothing
        rng = random.Random(f"demo-visits-{index}-{name}")
        plan.extend(_plan_client(client, version, evaluators, locations, channels, today, rng))
    db.session.flush()
