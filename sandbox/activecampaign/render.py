"""AC's JSON for each resource: ids and counters as strings, timestamps with the account offset."""

from __future__ import annotations

import hashlib
from typing import Any

from .defaults import CAMPAIGN_DEFAULTS, LIST_DEFAULTS, MESSAGE_DEFAULTS
from .state import ACState, Contact
from .timefmt import iso_local, local_date, plain_local, plain_utc

CONTACT_LINKS = ("bounceLogs", "contactAutomations", "contactData", "contactGoals", "contactLists", "contactLogs",
                 "contactTags", "contactDeals", "deals", "fieldValues", "geoIps", "notes", "organization",
                 "plusAppend", "trackingLogs", "scoreValues", "accountContacts", "automationEntryCounts")


class Renderer:
    def __init__(self, ac: ACState, base_url: str) -> None:
        self.ac = ac
        self.base = base_url.rstrip("/") + "/api/3"

    @property
    def zone(self) -> str:
        return str(self.ac.switches["account_timezone"])

    def t(self, ts: float | None) -> str | None:
        return iso_local(ts, self.zone)

    def contact(self, c: Contact) -> dict[str, Any]:
        return {
            "cdate": self.t(c.cdate), "email": c.email, "phone": c.phone, "firstName": c.first_name,
            "lastName": c.last_name, "orgid": "0", "orgname": "", "segmentio_id": "",
            "bounced_hard": str(c.bounced_hard), "bounced_soft": str(c.bounced_soft),
            "bounced_date": local_date(c.bounced_date, self.zone) if c.bounced_date else None, "ip": "0", "ua": None,
            "hash": hashlib.md5(c.email.lower().encode()).hexdigest(),  # noqa: S324 - AC's hash is an md5
            "socialdata_lastcheck": None, "email_local": "", "email_domain": "", "sentcnt": "0",
            "rating_tstamp": None, "gravatar": "0", "deleted": "0", "anonymized": "0", "adate": None,
            "udate": self.t(c.udate), "edate": None, "deleted_at": None,
            "created_utc_timestamp": plain_utc(c.cdate), "updated_utc_timestamp": plain_utc(c.udate),
            "created_timestamp": plain_local(c.cdate, self.zone), "updated_timestamp": plain_local(c.udate, self.zone),
            "email_empty": False, "scoreValues": [],
            "links": {name: f"{self.base}/contacts/{c.id}/{name}" for name in CONTACT_LINKS},
            "id": str(c.id), "organization": None,
        }

    def field_value(self, fv: dict[str, Any], *, numeric_ids: bool = False) -> dict[str, Any]:
        def ident(v: int) -> int | str:
            return v if numeric_ids else str(v)

        return {
            "contact": ident(fv["contact"]), "field": ident(fv["field"]), "value": fv["value"],
            "cdate": self.t(fv["cdate"]), "udate": self.t(fv["udate"]), "created_by": None, "updated_by": None,
            "links": {"owner": f"{self.base}/fieldValues/{fv['id']}/owner",
                      "field": f"{self.base}/fieldValues/{fv['id']}/field"},
            "id": str(fv["id"]), "owner": ident(fv["contact"]),
        }

    def contact_field_values(self, c: Contact) -> list[dict[str, Any]]:
        return [self.field_value(self.ac.field_values[i]) for i in sorted(c.field_values.values())]

    def tag(self, tag: dict[str, Any], *, with_count: bool = False) -> dict[str, Any]:
        out = {"tagType": tag["tagType"], "tag": tag["tag"], "description": tag["description"],
               "cdate": self.t(tag["cdate"]),
               "links": {"contactGoalTags": f"{self.base}/tags/{tag['id']}/contactGoalTags"}, "id": str(tag["id"])}
        if with_count:
            out["subscriber_count"] = str(len(self.ac.contacts_with_tag(tag["id"])))
        return out

    def contact_tag(self, ct: dict[str, Any]) -> dict[str, Any]:
        return {"cdate": self.t(ct["cdate"]), "contact": str(ct["contact"]), "id": str(ct["id"]),
                "links": {"contact": f"{self.base}/contactTags/{ct['id']}/contact",
                          "tag": f"{self.base}/contactTags/{ct['id']}/tag"},
                "tag": str(ct["tag"])}

    def list(self, lst: dict[str, Any]) -> dict[str, Any]:
        return {"stringid": lst["stringid"], "userid": "1", "name": lst["name"], "cdate": self.t(lst["cdate"]),
                **LIST_DEFAULTS, "sender_url": lst.get("sender_url", ""),
                "sender_reminder": lst.get("sender_reminder", ""),
                "links": {"contactGoalLists": f"{self.base}/lists/{lst['id']}/contactGoalLists",
                          "user": f"{self.base}/lists/{lst['id']}/user"},
                "id": str(lst["id"]), "user": "1"}

    def contact_list(self, cl: dict[str, Any]) -> dict[str, Any]:
        c = self.ac.contacts.get(cl["contact"])
        return {"contact": str(cl["contact"]), "list": str(cl["list"]), "form": None, "seriesid": "0",
                "sdate": self.t(cl["sdate"]), "udate": self.t(cl["udate"]),
                "status": str(self.ac.status_of(cl)), "responder": "1", "sync": "0",
                "unsubreason": cl.get("unsubreason"), "campaign": _id_or_none(cl.get("campaign")),
                "message": _id_or_none(cl.get("message")),
                "first_name": c.first_name if c else "", "last_name": c.last_name if c else "", "ip4Sub": "0",
                "sourceid": str(cl.get("sourceid", 0)), "autosyncLog": None, "ip4_last": "0", "ip4Unsub": "0",
                "created_timestamp": plain_local(cl["sdate"], self.zone),
                "updated_timestamp": plain_local(cl["udate"], self.zone), "created_by": None, "updated_by": None,
                "unsubscribeAutomation": None,
                "links": {"automation": "", "list": f"{self.base}/contactLists/{cl['id']}/list",
                          "contact": f"{self.base}/contactLists/{cl['id']}/contact"},
                "id": str(cl["id"]), "automation": None}

    def field(self, f: dict[str, Any]) -> dict[str, Any]:
        options = [str(o["id"]) for o in self.ac.field_options.values() if o["field"] == f["id"]]
        return {"title": f["title"], "descript": f.get("descript"), "type": f["type"], "isrequired": "0",
                "perstag": f["perstag"], "defval": f.get("defval"), "show_in_list": "0", "rows": "0", "cols": "0",
                "visible": str(f.get("visible", 1)), "service": "", "ordernum": str(f.get("ordernum", 1)),
                "cdate": self.t(f["cdate"]), "udate": self.t(f["udate"]), "options": options,
                "relations": [str(x["id"]) for x in self.ac.field_rels.values() if x["field"] == f["id"]],
                "links": {"options": f"{self.base}/fields/{f['id']}/options",
                          "relations": f"{self.base}/fields/{f['id']}/relations"},
                "id": str(f["id"])}

    def field_rel(self, rel: dict[str, Any], *, numeric_ids: bool = False) -> dict[str, Any]:
        """GET examples give every value as a string; the POST 201 example gives ``field``/``relid`` as ints."""
        out: dict[str, Any] = {"field": str(rel["field"]), "relid": str(rel["relid"]), "dorder": str(rel["dorder"]),
                               "cdate": self.t(rel["cdate"]), "links": [], "id": str(rel["id"])}
        if numeric_ids:
            out = {"relid": rel["relid"], "field": rel["field"], "cdate": out["cdate"], "links": [], "id": out["id"]}
        return out

    def field_option(self, o: dict[str, Any]) -> dict[str, Any]:
        return {"field": str(o["field"]), "orderid": o["orderid"], "value": o["value"], "label": o["label"],
                "isdefault": 1 if o["isdefault"] else 0, "cdate": self.t(o["cdate"]), "udate": self.t(o["udate"]),
                "links": {"field": f"{self.base}/fieldOptions/{o['id']}/field"}, "id": str(o["id"])}

    def account(self, a: dict[str, Any], *, with_fields: bool = False, counted: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": a["name"], "accountUrl": a["accountUrl"], "createdTimestamp": self.t(a["cdate"]),
            "updatedTimestamp": self.t(a["udate"]),
            "contactCount": str(len(self.ac.links_of_account(a["id"]))) if counted else "0",
            "dealCount": "0",
            "links": {"notes": f"{self.base}/accounts/{a['id']}/notes",
                      "accountCustomFieldData": f"{self.base}/accounts/{a['id']}/accountCustomFieldData",
                      "accountContacts": f"{self.base}/accounts/{a['id']}/accountContacts"},
            "id": str(a["id"]),
        }
        if with_fields:
            out["fields"] = [{"customFieldId": d["customFieldId"], "fieldValue": as_text(d["fieldValue"]),
                              "accountId": str(a["id"])}
                             for d in sorted(self.ac.acf_data_of_account(a["id"]), key=lambda d: d["id"])]
        return out

    def account_contact(self, link: dict[str, Any]) -> dict[str, Any]:
        return {"account": str(link["account"]), "contact": str(link["contact"]), "jobTitle": link["jobTitle"],
                "createdTimestamp": self.t(link["cdate"]), "updatedTimestamp": self.t(link["udate"]),
                "links": {"account": f"{self.base}/accountContacts/{link['id']}/account",
                          "contact": f"{self.base}/accountContacts/{link['id']}/contact"},
                "id": str(link["id"])}

    def acf_meta(self, m: dict[str, Any]) -> dict[str, Any]:
        return {"id": str(m["id"]), "fieldLabel": m["fieldLabel"], "fieldType": m["fieldType"],
                "fieldOptions": m.get("fieldOptions"), "fieldDefault": as_text(m.get("fieldDefault", "")) or "",
                "fieldDefaultCurrency": m.get("fieldDefaultCurrency"), "isFormVisible": m.get("isFormVisible", 0),
                "isRequired": m.get("isRequired", 0), "displayOrder": m.get("displayOrder", 1),
                "personalization": "", "knownFieldId": None, "hideFieldFlag": 0,
                "createdTimestamp": plain_local(m["cdate"], self.zone),
                "updatedTimestamp": plain_local(m["udate"], self.zone),
                "links": {"accountCustomFieldData": f"{self.base}/accountCustomFieldMeta/{m['id']}/"
                          "accountCustomFieldData"}}

    def acf_datum(self, d: dict[str, Any]) -> dict[str, Any]:
        out = {"id": str(d["id"]), "accountCustomFieldMetumId": d["customFieldId"], "accountId": d["accountId"],
               "customFieldId": d["customFieldId"], "createdTimestamp": plain_local(d["cdate"], self.zone),
               "updatedTimestamp": plain_local(d["udate"], self.zone), "fieldValue": as_text(d["fieldValue"])}
        if d.get("fieldCurrency"):
            out["fieldCurrency"] = d["fieldCurrency"]
        return out

    def automation(self, a: dict[str, Any]) -> dict[str, Any]:
        entered = len(self.ac.contacts_in_automation(a["id"]))
        return {"name": a["name"], "cdate": self.t(a["cdate"]), "mdate": self.t(a["cdate"]), "userid": "1",
                "status": str(a["status"]), "entered": str(entered), "exited": "0", "hidden": "0",
                "defaultscreenshot": "", "screenshot": "",
                "links": {"contactAutomations": f"{self.base}/automations/{a['id']}/contactAutomations"},
                "id": str(a["id"])}

    def contact_automation(self, x: dict[str, Any]) -> dict[str, Any]:
        done = x.get("status", 1) == 2  # 1: in the automation, 2: completed (the doc's examples)
        total = x.get("total_elements", 1)
        elements = total if done else x.get("completed_elements", 0)
        return {"contact": str(x["contact"]), "seriesid": str(x["automation"]), "startid": "0",
                "status": str(x.get("status", 1)), "batchid": "completed" if done else None,
                "adddate": self.t(x["adddate"]), "remdate": self.t(x.get("remdate")),
                "timespan": str(round(x["remdate"] - x["adddate"])) if done and x.get("remdate") else None,
                "lastblock": str(elements), "lastlogid": "0", "lastdate": self.t(x.get("lastdate", x["adddate"])),
                "completedElements": str(elements), "in_als": "0", "totalElements": str(total),
                "completed": 1 if done else 0, "completeValue": 100 if done else round(100 * elements / total),
                "links": {"automation": f"{self.base}/contactAutomations/{x['id']}/automation",
                          "contact": f"{self.base}/contactAutomations/{x['id']}/contact"},
                "id": str(x["id"]), "automation": str(x["automation"])}

    def campaign(self, c: dict[str, Any]) -> dict[str, Any]:
        sends = [s for s in self.ac.sends if s["campaignid"] == c["id"] and s["action"] == "send"]
        counters = {key: str(value) for key, value in (c.get("counters") or {}).items()}
        last = max((s["time"] for s in sends), default=c.get("ldate"))
        return {**CAMPAIGN_DEFAULTS, **counters, "type": c.get("type", "single"), "name": c["name"],
                "cdate": self.t(c["cdate"]), "mdate": self.t(c["cdate"]), "sdate": self.t(c.get("sdate")),
                "ldate": self.t(last), "send_amt": str(len(sends)), "total_amt": str(len(sends)),
                "status": str(c.get("status", 0)), "seriesid": str(c.get("seriesid", 0)),
                "links": {name: f"{self.base}/campaigns/{c['id']}/{name}" for name in
                          ("user", "automation", "campaignMessage", "campaignMessages", "links", "campaignLists")},
                "id": str(c["id"])}

    def link(self, x: dict[str, Any]) -> dict[str, Any]:
        return {"campaignid": str(x["campaign"]), "messageid": str(x["message"]), "link": x["link"],
                "name": x["name"], "ref": "", "tracked": str(x["tracked"]),
                "links": {"campaign": f"{self.base}/links/{x['id']}/campaign",
                          "message": f"{self.base}/links/{x['id']}/message"},
                "id": str(x["id"]), "campaign": str(x["campaign"]), "message": str(x["message"])}

    def score(self, x: dict[str, Any]) -> dict[str, Any]:
        return {"reltype": x["reltype"], "name": x["name"], "descript": x["descript"], "status": str(x["status"]),
                "cdate": self.t(x["cdate"]), "mdate": self.t(x["cdate"]), "links": [], "id": str(x["id"])}

    def score_value(self, x: dict[str, Any]) -> dict[str, Any]:
        base = f"{self.base}/scoreValues/{x['id']}"
        return {"score": str(x["score"]), "contact": str(x["contact"]), "deal": None, "cdate": self.t(x["cdate"]),
                "mdate": self.t(x["mdate"]), "scoreValue": str(x["value"]),
                "links": {k: f"{base}/{k}" for k in ("score", "contact", "deal")}, "id": str(x["id"])}

    def message(self, m: dict[str, Any]) -> dict[str, Any]:
        return {**MESSAGE_DEFAULTS, "cdate": self.t(m["cdate"]), "mdate": self.t(m["cdate"]), "name": m["name"],
                "subject": m["subject"], "text": m.get("text", ""), "html": m.get("html", ""),
                "links": {"user": f"{self.base}/messages/{m['id']}/user"}, "id": str(m["id"])}

    def activity(self, a: dict[str, Any]) -> dict[str, Any]:
        return {"tstamp": self.t(a["tstamp"]), "subscriberid": str(a["contact"]),
                "reference_type": a["reference_type"], "reference_id": str(a["reference_id"]),
                "reference_action": a["reference_action"], "jsonData": None, "userid": "1", "permission": "",
                "notes": [], "recipients": [], "reference": {"type": a["reference_type"],
                                                            "id": str(a["reference_id"])},
                "user": "1", "id": str(a["id"])}

    def bounce_log(self, b: dict[str, Any]) -> dict[str, Any]:
        base = f"{self.base}/bounceLogs/{b['id']}"
        return {"tstamp": self.t(b["tstamp"]), "bounceid": "1" if b["kind"] == "hard" else "2",
                "subscriberid": str(b["contact"]), "campaignid": str(b["campaign"]), "messageid": str(b["message"]),
                "codeid": b["code"], "email": b["email"], "error": b["description"], "source": "",
                "created_timestamp": plain_local(b["tstamp"], self.zone),
                "updated_timestamp": plain_local(b["tstamp"], self.zone), "created_by": None, "updated_by": None,
                "links": {k: f"{base}/{k}" for k in ("bounce", "contact", "campaign", "message", "code")},
                "id": str(b["id"]), "bounce": "1" if b["kind"] == "hard" else "2", "contact": str(b["contact"]),
                "campaign": str(b["campaign"]), "message": str(b["message"]), "code": b["code"]}

    def tracking_log(self, log: dict[str, Any]) -> dict[str, Any]:
        return {"subscriberid": str(log["contact"]), "type": log["type"], "value": log["value"],
                "tstamp": self.t(log["tstamp"]), "hash": log["hash"], "id": str(log["id"]),
                "contact": str(log["contact"])}


def _id_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def as_text(value: Any) -> Any:
    """AC answers custom-field values as text: numbers as digits, several options as ``||a||b||``."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "||" + "||".join(str(v) for v in value) + "||"
    return value
