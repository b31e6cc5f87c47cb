"""The data configuration's vocabulary: the engine's own operators per column type and standard mappings."""

from __future__ import annotations

from typing import Any

from sync_core.model.standard import STANDARD_FIELDS
from tests.api.conftest import CID, Api

P = f"/api/connections/{CID}"


async def _vocabulary(api: Api) -> dict[str, Any]:
    r = await api.client.get(f"{P}/vocabulary", headers=api.auth())
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_the_standard_mappings_are_the_engines(api: Api) -> None:
    await api.connect()
    body = await _vocabulary(api)
    got = {e["entity"]: (e["config_key"], [(f["key"], f["dynamics"], f["activecampaign"], f["locked"])
                                           for f in e["standard"]]) for e in body["entities"]}
    assert got == {entity: (key, [(f.key, f.dynamics, f.activecampaign, f.locked) for f in fields])
                   for (entity, fields), key in zip(STANDARD_FIELDS.items(),
                                                    ("contacts", "leads", "accounts", "opportunities"), strict=True)}
    assert ("email", "emailaddress1", "email", True) in got["lead"][1]


async def test_operators_per_column_type(api: Api) -> None:
    await api.connect()
    body = await _vocabulary(api)
    types = {t["type"]: t for t in body["column_types"]}
    assert "contains" in types["StringType"]["operators"] and "gt" not in types["StringType"]["operators"]
    assert "gt" in types["MoneyType"]["operators"] and "starts_with" not in types["MoneyType"]["operators"]
    assert types["PicklistType"]["value"] == "whole_number" and "lt" not in types["PicklistType"]["operators"]
    assert types["LookupType"]["value"] == "record_id"
    assert "MultiSelectPicklistType" not in types
    assert body["other_types"] == ["is_empty", "is_not_empty"]
    takes = {o["operator"]: o["value"] for o in body["operators"]}
    assert takes["in"] == "list" and takes["is_empty"] == "none" and takes["eq"] == "one"


async def test_what_it_offers_is_what_a_save_accepts(api: Api) -> None:
    """Every operator offered for a real lead column is accepted; every other is refused at that operator."""
    await api.connect()
    h = api.auth()
    body = await _vocabulary(api)
    ops = {t["type"]: t["operators"] for t in body["column_types"]}
    takes = {o["operator"]: o["value"] for o in body["operators"]}
    entities = (await api.client.get(f"{P}/config", headers=h)).json()["config"]["entities"]
    for column, kind, sample in (("lastname", "StringType", "son"), ("leadsourcecode", "PicklistType", 1)):
        def condition(op: str, column: str = column, sample: Any = sample) -> dict[str, Any]:
            value = {"none": None, "one": sample, "list": [sample]}[takes[op]]
            return {"field": column, "operator": op, "value": value}

        entities["leads"] = {"enabled": True, "direction": "push", "scope": "criteria",
                             "criteria": [condition(op) for op in ops[kind]]}
        r = await api.client.put(f"{P}/config", json={"config": {"entities": entities}}, headers=h)
        assert r.status_code == 200, (column, r.text)
        for op in sorted(set(takes) - set(ops[kind])):
            entities["leads"]["criteria"] = [condition(op)]
            r = await api.client.put(f"{P}/config", json={"config": {"entities": entities}}, headers=h)
            assert r.status_code == 422, (column, op, r.text)
            assert r.json()["error"]["field"] == "entities.leads.criteria[0].operator", (column, op, r.text)
