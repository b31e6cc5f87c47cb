"""Deterministic sample data: the same ``seed`` and count always give the same account."""

from __future__ import annotations

from .marketing import add_link
from .routes_fields import create_field_record
from .routes_taxonomy import create_list_record
from .state import ACState

FIRST = ("Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena", "Mo", "Nia")
LAST = ("Smith", "Jones", "Brown", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Moore", "Clark")
DAY = 86_400.0


def seed_account(ac: ACState, contacts: int) -> None:
    rng = ac.rng
    now = ac.now()
    if not ac.tags:
        for name in ("customer", "prospect", "newsletter", "vip"):
            ac.create_tag(name)
    if not ac.lists:
        for name in ("Newsletter", "Customers", "Events"):
            create_list_record(ac, name)
    if not ac.fields:
        create_field_record(ac, "Company Size", "text")
        create_field_record(ac, "Industry", "dropdown")
        create_field_record(ac, "Interests", "checkbox")
        create_field_record(ac, "Birthday", "date")
    if not ac.automations:
        for index, name in enumerate(("Welcome series", "Re-engagement", "Paused flow"), start=1):
            aid = ac.next_id("automation")
            ac.automations[aid] = {"id": aid, "name": name, "status": 2 if index == 3 else 1, "cdate": now - 30 * DAY}
    if not ac.messages:
        for subject in ("Welcome!", "We miss you", "Your invoice"):
            mid = ac.next_id("message")
            ac.messages[mid] = {"id": mid, "name": subject, "subject": subject, "cdate": now - 20 * DAY,
                                "text": f"{subject} (text)", "html": f"<p>{subject}</p>"}
    if not ac.campaigns:
        for index, name in enumerate(("Welcome campaign", "Win-back campaign", "Invoice campaign"), start=1):
            cid = ac.next_id("campaign")
            ac.campaigns[cid] = {"id": cid, "name": name, "cdate": now - 20 * DAY, "status": 5 if index < 3 else 0,
                                 "messages": [index], "sdate": now - 10 * DAY if index < 3 else None,
                                 "seriesid": 1 if index == 1 else 0}
            add_link(ac, cid, index, "open", "Read Tracker")
            add_link(ac, cid, index, f"https://example.com/offer/{cid}", f"Offer {cid}")
    if not ac.scores:
        ac.scores[1] = {"id": 1, "name": "Engagement", "reltype": "contact", "descript": "+10 per click",
                        "status": 1, "cdate": now - 30 * DAY}
    tag_ids, list_ids = sorted(ac.tags), sorted(ac.lists)
    start = len(ac.contacts)
    for n in range(start, start + contacts):
        first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
        created = now - rng.uniform(1, 365) * DAY
        contact = ac.create_contact({"email": f"{first}.{last}.{n}@example.com".lower(), "firstName": first,
                                     "lastName": last, "phone": f"+1555{n:07d}"}, at=created)
        contact.udate = created + rng.uniform(0, now - created)
        ac.add_contact_tag(contact, rng.choice(tag_ids), at=contact.udate)
        ac.set_list_status(contact, rng.choice(list_ids), 1, at=contact.udate)
        ac.set_field_value(contact, min(ac.fields), f"{rng.choice((10, 50, 200, 1000))}", at=contact.udate)
        if n % 3 == 0:
            act = ac.add_activity(contact.id, "SubscriberEmail", 1, "open")
            act["tstamp"] = contact.udate
            log = ac.add_tracking_log(contact.id, "visited_pricing", "/pricing")
            log["tstamp"] = contact.udate
