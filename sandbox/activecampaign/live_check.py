"""Probe a real ActiveCampaign account for every entry of ASSUMPTIONS.md and print what it observed.

Never run in CI. Usage (a trial account; the key is read from the environment, never printed):

    AC_LIVE_URL=https://<account>.api-us1.com AC_LIVE_KEY=... python -m sandbox.activecampaign.live_check

It creates contacts, tags, a list, a custom field, accounts and (on Enterprise) a custom-object schema, all
named with the prefix ``zz-sandbox-probe-<time>``, and deletes them at the end (also after a failure).
Optional: ``AC_LIVE_WEBHOOK_URL`` (a request bin: webhook probes), ``AC_LIVE_GLOBAL_UNSUB_EMAIL`` (a contact
unsubscribed account-wide in the UI), ``AC_LIVE_OPEN_EMAIL`` (a contact who opened and clicked a sent campaign).
``--sandbox`` runs the same probes against a sandbox at AC_LIVE_URL and moves its clock instead of sleeping
(used by the sandbox's own tests to keep this script working).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

Observation = dict[str, Any]


class Probe:
    def __init__(self, client: httpx.Client, pause: Callable[[float], None]) -> None:
        self.c = client
        self.pause = pause
        self.prefix = f"zz-sandbox-probe-{int(time.time())}"
        self.out: dict[str, Observation] = {}
        self.cleanup: list[tuple[str, str]] = []  # (method, path) run in reverse order

    # -------------------------------------------------------------------- helpers
    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for _ in range(5):
            r = self.c.request(method, path, **kwargs)
            if r.status_code not in (429, 503):
                return r
            self.pause(float(r.headers.get("Retry-After", "1")))
        return r

    def email(self, tag: str) -> str:
        return f"{self.prefix}-{tag}@example.com"

    def contact(self, tag: str, **extra: Any) -> dict[str, Any]:
        r = self.call("POST", "/api/3/contacts", json={"contact": {"email": self.email(tag), **extra}})
        r.raise_for_status()
        contact: dict[str, Any] = r.json()["contact"]
        self.cleanup.append(("DELETE", f"/api/3/contacts/{contact['id']}"))
        return contact

    def udate(self, contact_id: str) -> str:
        return str(self.call("GET", f"/api/3/contacts/{contact_id}").json()["contact"]["udate"])

    def record(self, entry: str, **observed: Any) -> None:
        self.out[entry] = observed

    # -------------------------------------------------------------------- probes
    def rate_limit(self) -> None:
        statuses, retry = [], None
        for _ in range(10):
            r = self.c.get("/api/3/users/me")
            statuses.append(r.status_code)
            retry = r.headers.get("Retry-After", retry)
        self.record("rate_limit_status", statuses=statuses, retry_after=retry)
        self.pause(2)
        bad = self.c.get("/api/3/users/me", headers={"Api-Token": "not-a-key"})
        self.record("auth_failure_body", status=bad.status_code, body=bad.text[:300])

    def udate_rules(self) -> None:
        c = self.contact("udate", firstName="Probe")
        self.record("account_timezone", cdate=c["cdate"])
        self.pause(2)
        self.call("PUT", f"/api/3/contacts/{c['id']}", json={"contact": {"firstName": "Probe"}})
        self.record("udate_on_noop_update", before=c["udate"], after=self.udate(c["id"]))
        tag = self.call("POST", "/api/3/tags", json={"tag": {"tag": f"{self.prefix}-tag", "tagType": "contact",
                                                              "description": ""}}).json()["tag"]
        self.cleanup.append(("DELETE", f"/api/3/tags/{tag['id']}"))
        before = self.udate(c["id"])
        self.pause(2)
        self.call("POST", "/api/3/contactTags", json={"contactTag": {"contact": c["id"], "tag": tag["id"]}})
        self.record("udate_on_tag_change", before=before, after=self.udate(c["id"]))
        lists = self.call("GET", "/api/3/lists", params={"limit": 1}).json()["lists"]
        if lists:
            before = self.udate(c["id"])
            self.pause(2)
            self.call("POST", "/api/3/contactLists", json={"contactList": {"list": lists[0]["id"],
                                                                           "contact": c["id"], "status": 1}})
            self.record("udate_on_list_change", before=before, after=self.udate(c["id"]))
        r = self.call("POST", "/api/3/contact/sync", json={"contact": {"email": c["email"], "lastName": "Synced"}})
        self.record("sync_update_status", status=r.status_code)

    def updated_after(self) -> None:
        c = self.contact("filter")
        udate = str(c["udate"])  # e.g. 2026-05-28T15:26:40-05:00
        wall = udate[:19].replace("T", " ")
        found: dict[str, bool] = {}
        for label, value in (("offset_exact", udate), ("naive_account_wall_time", wall),
                             ("date_only", udate[:10]), ("later_same_day", udate[:10] + "T23:59:00" + udate[19:])):
            r = self.call("GET", "/api/3/contacts", params={"filters[updated_after]": value, "email": c["email"]})
            found[label] = bool(r.json().get("contacts"))
        self.record("updated_after_tz_and_granularity", udate=udate, found=found)
        r = self.call("GET", "/api/3/contacts", params={"limit": 5})
        rows = r.json()["contacts"]
        self.record("contacts_default_order", ids=[x["id"] for x in rows], emails=[x["email"] for x in rows])

    def dropdown(self) -> None:
        r = self.call("POST", "/api/3/fields", json={"field": {"title": f"{self.prefix} dd", "type": "dropdown"}})
        body = r.json()
        field = (body.get("field") or body.get("fields", [{}])[0]).get("id")
        self.record("fields_create_shape", status=r.status_code, keys=sorted(body))
        if not field:
            return
        self.cleanup.append(("DELETE", f"/api/3/fields/{field}"))
        self.call("POST", "/api/3/fieldOption/bulk", json={"fieldOptions": [
            {"field": field, "label": "A", "value": "A", "orderid": 1, "isdefault": False}]})
        c = self.contact("dropdown", fieldValues=[{"field": field, "value": "A"}])
        values = self.call("GET", f"/api/3/contacts/{c['id']}/fieldValues").json()["fieldValues"]
        self.record("dropdown_value_format", sent="A", stored=[v["value"] for v in values if v["field"] == field])

    def bulk_import(self) -> None:
        account = f"{self.prefix} account"
        bad = self.call("POST", "/api/3/import/bulk_import", json={"contacts": [
            {"email": self.email("imp-ok")}, {"email": "not-an-email"}]})
        self.record("failure_row_base", status=bad.status_code, body=bad.json())
        for _ in range(5):
            self.c.get("/api/3/users/me")
        r = self.c.post("/api/3/import/bulk_import", json={"contacts": [
            {"email": self.email("imp-1"), "customer_acct_name": account, "tags": [f"{self.prefix}-imp"]},
            {"email": self.email("imp-2")}]})
        self.record("bulk_import_spends_rps", status_right_after_5_requests=r.status_code)
        if r.status_code != 200:
            self.pause(2)
            r = self.call("POST", "/api/3/import/bulk_import", json={"contacts": [
                {"email": self.email("imp-1"), "customer_acct_name": account, "tags": [f"{self.prefix}-imp"]},
                {"email": self.email("imp-2")}]})
        batch = r.json().get("batchId")
        first = self.call("GET", "/api/3/import/info", params={"batchId": batch}).json()
        waited = 0.0
        info = first
        while info.get("status") != "completed" and waited < 300:
            self.pause(5)
            waited += 5
            info = self.call("GET", "/api/3/import/info", params={"batchId": batch}).json()
        self.record("import_info", first=first, final=info, seconds_waited=waited)
        found = self.call("GET", "/api/3/contacts", params={"email": self.email("imp-1")}).json()["contacts"]
        for row in found:
            self.cleanup.append(("DELETE", f"/api/3/contacts/{row['id']}"))
            links = self.call("GET", f"/api/3/contacts/{row['id']}/accountContacts").json()
            self.record("customer_acct_name", account_links=links.get("accountContacts"))
            before = row["udate"]
            self.pause(2)
            again = self.call("POST", "/api/3/import/bulk_import", json={"contacts": [
                {"email": self.email("imp-1")}, {"email": self.email("imp-2")}]}).json()
            while self.call("GET", "/api/3/import/info", params={"batchId": again.get("batchId")}).json().get(
                    "status") != "completed" and waited < 600:
                self.pause(5)
                waited += 5
            self.record("udate_on_import", before=before, after=self.udate(row["id"]))
        for row in self.call("GET", "/api/3/contacts", params={"email": self.email("imp-2")}).json()["contacts"]:
            self.cleanup.append(("DELETE", f"/api/3/contacts/{row['id']}"))
        for acct in self.call("GET", "/api/3/accounts", params={"search": self.prefix}).json().get("accounts", []):
            self.cleanup.append(("DELETE", f"/api/3/accounts/{acct['id']}"))
        for tag in self.call("GET", "/api/3/tags", params={"search": self.prefix}).json().get("tags", []):
            self.cleanup.append(("DELETE", f"/api/3/tags/{tag['id']}"))

    def plans_and_objects(self) -> None:
        accounts = self.call("GET", "/api/3/accounts", params={"limit": 1})
        schemas = self.call("GET", "/api/3/customObjects/schemas", params={"limit": 1})
        self.record("plan_limit_status", accounts=(accounts.status_code, accounts.text[:200]),
                    custom_objects=(schemas.status_code, schemas.text[:200]))
        if schemas.status_code != 200:
            return
        slug = f"{self.prefix}-obj"
        r = self.call("POST", "/api/3/customObjects/schemas", json={"schema": {
            "slug": slug, "labels": {"singular": "Probe", "plural": "Probes"},
            "fields": [{"id": "due", "labels": {"singular": "Due", "plural": "Dues"}, "type": "date"}]}})
        self.record("custom_object_date_fields", status=r.status_code, body=r.text[:300])
        if r.status_code != 201:
            r = self.call("POST", "/api/3/customObjects/schemas", json={"schema": {
                "slug": slug, "labels": {"singular": "Probe", "plural": "Probes"},
                "fields": [{"id": "note", "labels": {"singular": "Note", "plural": "Notes"}, "type": "text"}]}})
        schema = r.json().get("schema", {}).get("id")
        if not schema:
            return
        self.cleanup.append(("DELETE", f"/api/3/customObjects/schemas/{schema}"))
        field = r.json()["schema"]["fields"][0]["id"]
        value = "2026-01-31" if field == "due" else "x"
        record = {"record": {"externalId": f"{self.prefix}-1", "fields": [{"id": field, "value": value}]}}
        first = self.call("POST", f"/api/3/customObjects/records/{schema}", json=record)
        second = self.call("POST", f"/api/3/customObjects/records/{schema}", json=record)
        self.record("custom_object_update_status", create=first.status_code, update=second.status_code)

    def account_timestamps(self) -> None:
        r = self.call("POST", "/api/3/accounts", json={"account": {"name": f"{self.prefix} timestamps"}})
        if r.status_code != 201:
            self.record("account_udate_on_noop", skipped=r.status_code)
            return
        acct = r.json()["account"]
        self.cleanup.append(("DELETE", f"/api/3/accounts/{acct['id']}"))
        self.pause(2)
        same = self.call("PUT", f"/api/3/accounts/{acct['id']}", json={"account": {"name": acct["name"]}}).json()
        self.record("account_udate_on_noop", before=acct["updatedTimestamp"],
                    after=same.get("account", {}).get("updatedTimestamp"))
        c = self.contact("acct-link")
        before = self.call("GET", f"/api/3/accounts/{acct['id']}").json()["account"]["updatedTimestamp"]
        self.pause(2)
        self.call("POST", "/api/3/accountContacts", json={"accountContact": {"contact": c["id"],
                                                                             "account": acct["id"]}})
        after = self.call("GET", f"/api/3/accounts/{acct['id']}").json()["account"]["updatedTimestamp"]
        self.record("account_udate_on_contact_link", before=before, after=after)

    def list_include(self) -> None:
        c = self.contact("include")
        r = self.call("GET", "/api/3/contacts", params={"email": c["email"],
                                                       "include": "fieldValues,contactLists,contactTags"})
        self.record("contacts_list_include", status=r.status_code, top_level_keys=sorted(r.json()))

    def bounces_and_unsubscribes(self) -> None:
        """Reads the lists of contacts that bounced or unsubscribed (made beforehand in the UI, if any)."""
        for label, params in (("bounce_scope", {"status": 3}), ("global_unsubscribe_reading", {"status": 2})):
            rows = self.call("GET", "/api/3/contacts", params={**params, "limit": 3}).json().get("contacts", [])
            lists = {row["id"]: [(x["list"], x["status"]) for x in self.call(
                "GET", f"/api/3/contacts/{row['id']}/contactLists").json().get("contactLists", [])] for row in rows}
            self.record(label, contacts_lists=lists, bounced=[(r["id"], r.get("bounced_hard"),
                                                               r.get("bounced_soft")) for r in rows])
        email = os.environ.get("AC_LIVE_GLOBAL_UNSUB_EMAIL")  # a contact unsubscribed account-wide in the UI
        if email:
            rows = self.call("GET", "/api/3/contacts", params={"email": email}).json().get("contacts", [])
            for row in rows:
                lists = self.call("GET", f"/api/3/contacts/{row['id']}/contactLists").json()
                self.record("global_unsubscribe_reading", contact=row, lists=lists.get("contactLists"))

    def webhooks(self) -> None:
        """With AC_LIVE_WEBHOOK_URL (a request bin): a webhook, a subscribe and an import; look at what arrives."""
        url = os.environ.get("AC_LIVE_WEBHOOK_URL")
        if not url:
            self.record("webhook_duplicates", skipped="set AC_LIVE_WEBHOOK_URL to a request bin")
            return
        r = self.call("POST", "/api/3/webhooks", json={"webhook": {
            "name": f"{self.prefix} hook", "url": url, "events": ["subscribe", "update", "contact_tag_added"],
            "sources": ["public", "admin", "api", "system"]}})
        self.record("webhook_create", status=r.status_code, body=r.json())
        if r.status_code != 201:
            return
        self.cleanup.append(("DELETE", f"/api/3/webhooks/{r.json()['webhook']['id']}"))
        lists = self.call("GET", "/api/3/lists", params={"limit": 1}).json().get("lists", [])
        c = self.contact("hook")
        if lists:
            self.call("POST", "/api/3/contactLists", json={"contactList": {"list": lists[0]["id"],
                                                                           "contact": c["id"], "status": 1}})
        self.call("POST", "/api/3/import/bulk_import", json={"contacts": [
            {"email": self.email("hook-imp-1"), "tags": [f"{self.prefix}-hook"]}, {"email": self.email("hook-imp-2")}]})
        self.record("webhook_duplicates", sent="one subscribe (api) and an import of two tagged rows",
                    check=f"{url}: subscribe count (webhook_duplicates), tag events from the import "
                          "(import_fires_webhooks), field names")
        self.record("automation_webhook_envelope", check="make an automation with a webhook step to "
                    f"{url} and add a contact: are type/date_time/initiated_* posted beside contact[...]?")

    def marketing(self) -> None:
        every = self.call("GET", "/api/3/campaigns", params={"limit": 1}).json().get("meta", {}).get("total")
        drafts = self.call("GET", "/api/3/campaigns", params={"limit": 1, "filters[status]": "0"}).json()
        autos = self.call("GET", "/api/3/automations", params={"limit": 100}).json().get("automations", [])
        named = self.call("GET", "/api/3/automations", params={"filters[name]": "zz-no-such-automation"}).json()
        self.record("undocumented_list_filters", campaigns_total=every,
                    campaigns_with_status_0=drafts.get("meta", {}).get("total"), automations_total=len(autos),
                    automations_named_nonsense=len(named.get("automations", [])))
        active = next((a for a in autos if str(a.get("status")) == "1"), None)
        if active is None:
            self.record("automation_reentry", skipped="no active automation")
        else:
            c = self.contact("reentry")
            body = {"contactAutomation": {"contact": c["id"], "automation": active["id"]}}
            first, second = self.call("POST", "/api/3/contactAutomations", json=body), \
                self.call("POST", "/api/3/contactAutomations", json=body)
            self.record("automation_reentry", first=first.status_code, second=(second.status_code, second.text[:200]))
        email = os.environ.get("AC_LIVE_OPEN_EMAIL")  # a contact who was sent, opened and clicked a campaign
        if email:
            for row in self.call("GET", "/api/3/contacts", params={"email": email}).json().get("contacts", []):
                acts = self.call("GET", "/api/3/activities", params={"contact": row["id"]}).json()
                self.record("campaign_events_in_activities", activities=[
                    (a.get("reference_type"), a.get("reference_action")) for a in acts.get("activities", [])])

    def v1(self) -> None:
        params = {"api_action": "account_view", "api_output": "json"}
        header = self.c.get("/admin/api.php", params=params)
        self.record("v1_header_auth", status=header.status_code, body=header.text[:200])
        sent = self.call("GET", "/api/3/campaigns", params={"orders[sdate]": "DESC", "limit": 20}).json()
        campaign = next((x for x in sent.get("campaigns", []) if str(x.get("status")) in ("2", "5")), None)
        if campaign is None:
            self.record("v1_campaign_reports", skipped="no sent campaign")
            return
        shapes: dict[str, Any] = {}
        for action in ("open", "link", "bounce", "unsubscription"):
            r = self.call("GET", "/admin/api.php", params={"api_action": f"campaign_report_{action}_list",
                                                           "api_output": "json", "campaignid": campaign["id"],
                                                           "api_key": self.c.headers.get("Api-Token", "")})
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            first = body.get("0") if isinstance(body, dict) else None
            shapes[action] = {"result_code": body.get("result_code"), "message": body.get("result_message"),
                              "row_fields": sorted(first) if isinstance(first, dict) else None}  # names, never values
        self.record("v1_campaign_reports", campaign=campaign["id"], shapes=shapes)

    def run(self) -> dict[str, Observation]:
        try:
            for step in (self.rate_limit, self.udate_rules, self.updated_after, self.dropdown, self.bulk_import,
                         self.plans_and_objects, self.account_timestamps, self.list_include,
                         self.bounces_and_unsubscribes, self.webhooks, self.marketing, self.v1):
                try:
                    step()
                except (httpx.HTTPError, KeyError, ValueError) as err:
                    self.record(f"error:{step.__name__}", error=repr(err))
        finally:
            for method, path in reversed(self.cleanup):
                self.call(method, path)
        return self.out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sandbox", action="store_true", help="target is the sandbox: move its clock, don't sleep")
    args = parser.parse_args(argv)
    url, key = os.environ.get("AC_LIVE_URL"), os.environ.get("AC_LIVE_KEY")
    if not url or not key:
        print("set AC_LIVE_URL and AC_LIVE_KEY", file=sys.stderr)
        return 2
    with httpx.Client(base_url=url.rstrip("/"), headers={"Api-Token": key}, timeout=30) as client:
        def pause(seconds: float) -> None:
            if args.sandbox:
                client.post("/_sandbox/clock", json={"advance": seconds})
            else:
                time.sleep(seconds)

        observations = Probe(client, pause).run()
    print(json.dumps(observations, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
