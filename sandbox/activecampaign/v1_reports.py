"""v1 campaign reports: who opened a campaign, who clicked which link, who bounced, who unsubscribed.

``api_action=campaign_report_open_list``, ``campaign_report_link_list``, ``campaign_report_bounce_list`` and
``campaign_report_unsubscription_list`` with ``campaignid`` (required),
``messageid`` (optional) and ``page``: the per-contact sources of opens and clicks (with the link) that the v3
``activities`` read may not carry (reference §11: "v1 campaign_report_open_list ... (with campaignid, messageid,
page)" [S] Singer tap). Answer shapes, as third-party clients read them [S]: the rows under the keys ``"0"``,
``"1"``, … beside ``result_code``; an open row ``{subscriberid, email, times, tstamp}``; a link row ``{id, link,
name, a_unique, a_total, info: [{subscriberid, email, times, tstamp}]}`` (the WSO2 connector's tests read
``["0"]["a_unique"]`` and ``["0"]["info"][0]["email"]``). Unconfirmed (register): 20 rows a page, newest first,
``tstamp`` in account time ``YYYY-MM-DD HH:MM:SS``, ``result_code: 0`` "Failed: Nothing is returned" for an
empty page, and the rows of the last two (invented field names): a bounce ``{subscriberid, email, tstamp, type
(hard|soft), code}`` per bounce log of the campaign, an unsubscription ``{subscriberid, email, tstamp, listid,
reason}`` per list the campaign's unsubscribe link took the contact off.
"""

from __future__ import annotations

from typing import Any

from .marketing import links_of_campaign
from .state import ACState, as_int
from .timefmt import plain_local

PAGE = 20
ACTIONS = ("campaign_report_open_list", "campaign_report_link_list", "campaign_report_bounce_list",
           "campaign_report_unsubscription_list")


def _who(ac: ACState, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per contact: how many times, and the latest time (newest first)."""
    rows: dict[int, dict[str, Any]] = {}
    zone = str(ac.switches["account_timezone"])
    for e in events:
        contact = ac.contacts.get(e["contact"])
        if contact is None:
            continue  # a deleted contact leaves the reports
        row = rows.setdefault(contact.id, {"subscriberid": str(contact.id), "email": contact.email, "times": 0,
                                           "last": 0.0})
        row["times"] += 1
        row["last"] = max(row["last"], e["time"])
    out = sorted(rows.values(), key=lambda r: (-r["last"], int(r["subscriberid"])))
    return [{**{k: v for k, v in r.items() if k != "last"}, "times": str(r["times"]),
             "tstamp": plain_local(r["last"], zone)} for r in out]


def _bounces(ac: ACState, cid: int, mid: int | None) -> list[dict[str, Any]]:
    zone = str(ac.switches["account_timezone"])
    logs = [b for b in ac.bounce_logs.values() if b["campaign"] == cid and (mid is None or b["message"] == mid)
            and b["contact"] in ac.contacts]
    return [{"subscriberid": str(b["contact"]), "email": b["email"], "tstamp": plain_local(b["tstamp"], zone),
             "type": b["kind"], "code": b["code"]} for b in sorted(logs, key=lambda b: (-b["tstamp"], -b["id"]))]


def _unsubscriptions(ac: ACState, cid: int, mid: int | None) -> list[dict[str, Any]]:
    zone = str(ac.switches["account_timezone"])
    rows = [cl for cl in ac.contact_lists.values() if cl.get("campaign") == cid and cl["status"] == 2
            and (mid is None or cl.get("message") == mid) and cl["contact"] in ac.contacts]
    return [{"subscriberid": str(cl["contact"]), "email": ac.contacts[cl["contact"]].email,
             "tstamp": plain_local(cl["udate"], zone), "listid": str(cl["list"]), "reason": cl.get("unsubreason") or ""}
            for cl in sorted(rows, key=lambda cl: (-cl["udate"], -cl["id"]))]


def report(ac: ACState, params: dict[str, str]) -> tuple[int, str, dict[str, Any]]:
    """(result_code, result_message, rows by "0", "1", ...) of one report page."""
    cid = as_int(params.get("campaignid", ""))
    if cid is None or cid not in ac.campaigns:
        return 0, "Campaign not found", {}
    mid = as_int(params.get("messageid", "")) if params.get("messageid") else None
    page = as_int(params.get("page", "1")) or 1
    events = [e for e in ac.campaign_events if e["campaign"] == cid and (mid is None or e["message"] == mid)]
    action = params["api_action"]
    if action == "campaign_report_open_list":
        rows = _who(ac, [e for e in events if e["event"] == "open"])
    elif action == "campaign_report_bounce_list":
        rows = _bounces(ac, cid, mid)
    elif action == "campaign_report_unsubscription_list":
        rows = _unsubscriptions(ac, cid, mid)
    else:
        rows = []
        for link in links_of_campaign(ac, cid):
            if mid is not None and link["message"] != mid:
                continue
            clicks = [e for e in events if e["event"] == "click" and e["link"] == link["id"]]
            info = _who(ac, clicks)
            if info:
                rows.append({"id": str(link["id"]), "link": link["link"], "name": link["name"],
                             "a_unique": str(len(info)), "a_total": str(len(clicks)), "info": info})
    chunk = rows[(page - 1) * PAGE:page * PAGE]
    if not chunk:
        return 0, "Failed: Nothing is returned", {}
    return 1, "Success: Something is returned", {str(i): row for i, row in enumerate(chunk)}
