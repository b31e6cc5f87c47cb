"""Property: ``quote_string``/``escape_like`` round-trip through the sandbox's $filter.

For any name (quotes, ``%``, ``_``, ``[``, non-ASCII), a record with that name is found by ``eq``,
``contains``, ``startswith`` and ``endswith`` built with the helpers, and a decoy whose wildcard
characters were replaced by letters is not (which it would be if a wildcard leaked through).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_core.dynamics import DataverseClient, escape_like, quote_string

SPECIALS = "'%_[]^-\"&+#?/\\=;,@$"
names = st.text(
    alphabet=st.one_of(
        st.sampled_from(SPECIALS),
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    ),
    min_size=1,
    max_size=20,
).filter(lambda s: any(c in "'%_[" for c in s) or not s.isascii())

_DECOY = {"%": "p", "_": "u", "[": "b"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, accent_insensitive=st.booleans())
async def test_name_is_found_by_escaped_filters_and_decoy_is_not(client: DataverseClient, dv: Any, name: str,
                                                                 accent_insensitive: bool) -> None:
    dv.reset()
    dv.set_switches({"filter_accent_insensitive": accent_insensitive})
    target = await client.create("contacts", {"lastname": name})
    decoy_name = "".join(_DECOY.get(c, c) for c in name)
    decoy = await client.create("contacts", {"lastname": decoy_name}) if decoy_name != name else None
    literal = quote_string(name)
    pattern = quote_string(escape_like(name))
    for flt in (f"lastname eq {literal}", f"contains(lastname,{pattern})", f"startswith(lastname,{pattern})",
                f"endswith(lastname,{pattern})"):
        rows = await client.query_all("contacts", select=["contactid", "lastname"], filter=flt)
        ids = {r["contactid"] for r in rows}
        assert target in ids, (flt, name)
        assert decoy not in ids, (flt, name, decoy_name)
        assert ids == {target}, (flt, name)
