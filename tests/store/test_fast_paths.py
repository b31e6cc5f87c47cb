"""Key encoding, entity sizing and transaction properties: the fast paths (issue 23, CPU) give what the slow did."""

from __future__ import annotations

import random
from urllib.parse import quote

import pytest

from sync_core.store._batch import _key
from sync_core.store._codec import ENTITY_BYTES, check_size
from sync_core.store._keys import _SAFE, dec, enc
from sync_core.store.errors import ValueTooLargeError

_CHARS = "".join(chr(c) for c in range(128)) + "éü€😀"


def test_key_parts_are_encoded_as_quote_encodes_them() -> None:
    rng = random.Random(23)
    samples = ["", "a|b", "O'Brien@example.org", "ÄÖ@x.de", "1+1=2 100%", "😀", "00000000-0000-0000-0000-0000000000ab"]
    samples += ["".join(rng.choice(_CHARS) for _ in range(rng.randint(0, 40))) for _ in range(5000)]
    for s in samples:
        assert enc(s) == quote(s, safe=_SAFE), s
        assert dec(enc(s)) == s
        assert _key(s) == quote(s.replace("'", "''"), safe=""), s


def test_an_entity_just_over_the_limit_is_refused_whatever_its_characters() -> None:
    # Non-BMP characters are two UTF-16 units each: the size bound must count them so.
    per = (ENTITY_BYTES // 4) // 4  # four properties of this many 😀 ≈ the limit
    over = {f"p{i}": "😀" * (per + 100) for i in range(4)}
    with pytest.raises(ValueTooLargeError):
        check_size(over, "test")
    under = {f"p{i}": "😀" * (per - 1000) for i in range(4)}
    check_size(under, "test")  # no error
    ascii_under = {f"p{i}": "a" * (2 * per - 1000) for i in range(4)}
    check_size(ascii_under, "test")


def test_transaction_properties_are_the_sdks() -> None:
    from datetime import UTC, datetime
    from enum import Enum

    from azure.data.tables import EdmType, EntityProperty
    from azure.data.tables._serialize import _add_entity_properties

    from sync_core.store._batch import properties

    class Color(Enum):
        RED = "red"

    entity = {"PartitionKey": "c1", "RowKey": "f|contact|x", "s": "text", "empty": "", "n": 7,
              "b": True, "f": 1.5, "none": None, "when": datetime(2026, 12, 3, 9, 0, 1, 5, tzinfo=UTC),
              "i64": EntityProperty(5, EdmType.INT64), "t": ("x", EdmType.STRING), "t_none": (None, EdmType.STRING),
              "e": Color.RED, "u": "ü😀"}
    assert list(properties(entity).items()) == list(_add_entity_properties(entity).items())
