"""Small request helpers shared by the AC sandbox tests."""

from __future__ import annotations

from typing import Any

import httpx


async def new_contact(client: httpx.AsyncClient, email: str, **extra: Any) -> dict[str, Any]:
    r = await client.post("/api/3/contacts", json={"contact": {"email": email, **extra}})
    assert r.status_code == 201, r.text
    contact: dict[str, Any] = r.json()["contact"]
    return contact


async def new_tag(client: httpx.AsyncClient, name: str) -> str:
    r = await client.post("/api/3/tags", json={"tag": {"tag": name, "tagType": "contact", "description": ""}})
    assert r.status_code == 201, r.text
    return str(r.json()["tag"]["id"])


async def new_list(client: httpx.AsyncClient, name: str) -> str:
    r = await client.post("/api/3/lists", json={"list": {"name": name, "stringid": name.lower(), "sender_url": "",
                                                         "sender_reminder": ""}})
    assert r.status_code == 200, r.text
    return str(r.json()["list"]["id"])


async def new_field(client: httpx.AsyncClient, title: str, ftype: str = "text") -> str:
    r = await client.post("/api/3/fields", json={"field": {"title": title, "type": ftype}})
    assert r.status_code == 201, r.text
    return str(r.json()["field"]["id"])


async def emails(client: httpx.AsyncClient, **params: Any) -> list[str]:
    r = await client.get("/api/3/contacts", params=params)
    assert r.status_code == 200, r.text
    return [c["email"] for c in r.json()["contacts"]]
