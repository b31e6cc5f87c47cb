"""Every .bicep parses with the pycep version checkov pins, so checkov sees every resource."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.infra.bicep import INFRA, ROOT, bicep_files, parse


def test_there_is_bicep_to_check() -> None:
    names = {p.relative_to(INFRA).as_posix() for p in bicep_files()}
    assert "main.bicep" in names
    assert len(names) >= 2


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: p.relative_to(INFRA).as_posix())
def test_parses_with_pycep(path: Path) -> None:
    tree = parse(path)
    assert tree.get("resources") or tree.get("modules"), f"{path.name} declares nothing"


def test_pycep_is_the_version_checkov_pins() -> None:
    pins = dict(re.findall(r"(?m)^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements-infra.txt").read_text()))
    assert version("pycep-parser") == pins["pycep-parser"], "install requirements-infra.txt's pycep-parser"


def test_pycep_catches_a_syntax_error() -> None:
    from lark.exceptions import LarkError

    with pytest.raises(LarkError):
        from pycep import BicepParser

        BicepParser().parse(text="resource x 'Microsoft.Web/sites@2024-04-01' = {\n  name: \n")
