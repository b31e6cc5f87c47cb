"""``python -m bench.fast_sandbox``: ``python -m sandbox`` with indexed look-ups in the AC stand-in.

The AC stand-in finds a contact by email, a contact's tag, an account by name and a contact's
account by scanning every row, so each imported row costs O(contacts) and a 100,000-contact
import O(n²) (hours, and requests blocked past the client's 30 s timeout). The benchmark measures
the product, not the stand-in, so this launcher adds dictionaries in front of those four
look-ups. Behaviour is unchanged: every index hit is checked against the rows themselves, writes
outside the wrapped methods are caught by a row-count check that rebuilds the index, and misses
fall back to the scan whenever the count disagrees. Not covered (the benchmark never does it):
renaming an account through ``PUT accounts/{id}`` (a later look-up of the new name misses).
The right fix is indexes in ``sandbox/activecampaign/state.py`` itself.
"""

from __future__ import annotations

import sys
from typing import Any


def install() -> None:
    from sandbox.activecampaign.state import ACState

    plain = {name: getattr(ACState, name) for name in
             ("reset_data", "create_contact", "update_contact", "contacts_by_email", "add_contact_tag",
              "account_named", "create_account", "account_of_contact", "link_account")}

    def reset_data(self: Any) -> None:
        plain["reset_data"](self)
        self._bx = {}

    def _email_index(self: Any) -> dict[str, list[int]]:
        bx = self.__dict__.setdefault("_bx", {})
        idx = bx.get("email")
        if idx is None or bx.get("email_n") != len(self.contacts):
            idx = {}
            for c in self.contacts.values():
                idx.setdefault(c.email.lower(), []).append(c.id)
            bx["email"], bx["email_n"] = idx, len(self.contacts)
        return idx  # type: ignore[no-any-return]

    def contacts_by_email(self: Any, email: str) -> list[Any]:
        wanted = email.strip().lower()
        ids = _email_index(self).get(wanted, [])
        return [self.contacts[i] for i in ids if i in self.contacts and self.contacts[i].email.lower() == wanted]

    def create_contact(self: Any, data: dict[str, Any], *, at: float | None = None) -> Any:
        idx = _email_index(self)
        contact = plain["create_contact"](self, data, at=at)
        idx.setdefault(contact.email.lower(), []).append(contact.id)
        self._bx["email_n"] = len(self.contacts)
        return contact

    def update_contact(self: Any, contact: Any, data: dict[str, Any], *, at: float | None = None) -> bool:
        idx = _email_index(self)
        old = contact.email.lower()
        changed: bool = plain["update_contact"](self, contact, data, at=at)
        new = contact.email.lower()
        if new != old:
            idx[old] = [i for i in idx.get(old, []) if i != contact.id]
            idx.setdefault(new, []).append(contact.id)
        return changed

    def _keyed(self: Any, name: str, rows: dict[Any, Any], key: Any) -> dict[Any, Any]:
        bx = self.__dict__.setdefault("_bx", {})
        idx = bx.get(name)
        if idx is None or bx.get(name + "_n") != len(rows):
            idx = {}
            for row_id, row in rows.items():
                idx.setdefault(key(row), row_id)
            bx[name], bx[name + "_n"] = idx, len(rows)
        return idx  # type: ignore[no-any-return]

    def add_contact_tag(self: Any, contact: Any, tag_id: int, *, at: float | None = None) -> dict[str, Any]:
        for _ in range(2):
            idx = _keyed(self, "ctag", self.contact_tags, lambda ct: (ct["contact"], ct["tag"]))
            key = (contact.id, tag_id)
            if key not in idx:
                break
            hit = self.contact_tags.get(idx[key])
            if hit is not None and hit["contact"] == contact.id and hit["tag"] == tag_id:
                return hit  # type: ignore[no-any-return]
            self._bx["ctag"] = None  # a stale entry: rebuild and look again
        # The stand-in's own creation, without its scan (the index just said there is no such row).
        when = self.now() if at is None else at
        ct = {"id": self.next_id("contactTag"), "contact": contact.id, "tag": tag_id, "cdate": when}
        self.contact_tags[ct["id"]] = ct
        idx[key] = ct["id"]
        self._bx["ctag_n"] = len(self.contact_tags)
        if self.switches["udate_on_tag_change"]:
            contact.udate = when
        return ct

    def account_named(self: Any, name: str) -> dict[str, Any] | None:
        idx = _keyed(self, "acct", self.accounts, lambda a: a["name"].lower())
        hit = self.accounts.get(idx.get(name.lower()))
        if hit is not None and hit["name"].lower() == name.lower():
            return hit  # type: ignore[no-any-return]
        return None

    def create_account(self: Any, name: str, url: str | None = None, owner: int = 1) -> dict[str, Any]:
        idx = _keyed(self, "acct", self.accounts, lambda a: a["name"].lower())
        acct: dict[str, Any] = plain["create_account"](self, name, url, owner)
        idx[acct["name"].lower()] = acct["id"]
        self._bx["acct_n"] = len(self.accounts)
        return acct

    def account_of_contact(self: Any, contact_id: int) -> dict[str, Any] | None:
        idx = _keyed(self, "acon", self.account_contacts, lambda link: link["contact"])
        hit = self.account_contacts.get(idx.get(contact_id))
        if hit is not None and hit["contact"] == contact_id:
            return hit  # type: ignore[no-any-return]
        if contact_id in idx:
            self._bx["acon"] = None
            found: dict[str, Any] | None = plain["account_of_contact"](self, contact_id)
            return found
        return None

    def link_account(self: Any, contact_id: int, account_id: int, job_title: str = "") -> dict[str, Any]:
        idx = _keyed(self, "acon", self.account_contacts, lambda link: link["contact"])
        link: dict[str, Any] = plain["link_account"](self, contact_id, account_id, job_title)
        idx[contact_id] = link["id"]
        self._bx["acon_n"] = len(self.account_contacts)
        return link

    patched = {"reset_data": reset_data, "create_contact": create_contact, "update_contact": update_contact,
               "contacts_by_email": contacts_by_email, "add_contact_tag": add_contact_tag,
               "account_named": account_named, "create_account": create_account,
               "account_of_contact": account_of_contact, "link_account": link_account}
    for name, fn in patched.items():
        setattr(ACState, name, fn)


def main(argv: list[str]) -> int:
    install()
    from sandbox.__main__ import main as sandbox_main

    return sandbox_main(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
