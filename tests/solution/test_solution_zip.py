"""The solution zip `make solution` builds: complete, well-formed, one publisher prefix throughout.

Built from the real web resources in solution/dist when they are there (CI builds them first and
sets ACDS_REQUIRE_DIST=1, so a missing build fails there); otherwise from a small stand-in dist,
which still checks the package sources and the builder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILDER = ROOT / "solution" / "build_solution.py"
REAL_DIST = ROOT / "solution" / "dist"
PREFIX = "acds"
PLATFORM_TABLES = {"contact", "lead"}


def _stand_in_dist(tmp: Path) -> Path:
    for name, text in {"panel/index.html": "<!doctype html><script type='module' src='./panel.js'></script>",
                       "panel/panel.js": "export {};", "app/index.html": "<!doctype html>", "app/app.js": "",
                       "auth/redirect.html": "<!doctype html>", "auth/auth.js": "", "commands/commands.js": "",
                       "shared/App.js": ""}.items():
        p = tmp / "acds_" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp


def _build(dist: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BUILDER), "--dist", str(dist), "--out", str(out), *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    tmp = tmp_path_factory.mktemp("solution")
    if (REAL_DIST / "acds_" / "panel" / "index.html").exists():
        dist = REAL_DIST
    elif os.environ.get("ACDS_REQUIRE_DIST") == "1":
        pytest.fail("solution/dist is not built (npm run build) and ACDS_REQUIRE_DIST=1")
    else:
        dist = _stand_in_dist(tmp / "dist")
    out = tmp / "acds.zip"
    result = _build(dist, out)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as z:
        yield z


def xml(z: zipfile.ZipFile, name: str) -> ET.Element:
    return ET.fromstring(z.read(name))  # noqa: S314 - the zip this repo just built


def test_every_xml_file_is_well_formed(built: zipfile.ZipFile) -> None:
    names = [n for n in built.namelist() if n.endswith(".xml")]
    assert {"solution.xml", "customizations.xml", "[Content_Types].xml"} <= set(names)
    for name in names:
        xml(built, name)  # raises ParseError when not well-formed


def test_every_component_the_manifest_names_is_in_the_zip(built: zipfile.ZipFile) -> None:
    manifest = xml(built, "solution.xml").find("SolutionManifest")
    assert manifest is not None
    custom = xml(built, "customizations.xml")
    files = set(built.namelist())
    role_ids = {r.get("id") for r in custom.iter("Role") if r.get("name")}
    entities = {e.text.lower() for e in custom.iterfind("Entities/Entity/Name") if e.text}
    apps = {e.text for e in custom.iterfind("AppModules/AppModule/UniqueName")}
    sitemaps = {e.text for e in custom.iterfind("AppModuleSiteMaps/AppModuleSiteMap/SiteMapUniqueName")}
    roots = manifest.findall("RootComponents/RootComponent")
    kinds = {r.get("type") for r in roots}
    assert {"1", "20", "61", "62", "80", "380"} <= kinds
    for r in roots:
        kind, schema = r.get("type"), r.get("schemaName") or ""
        if kind == "61":
            assert f"WebResources/{schema}" in files, schema
        elif kind == "380":
            assert f"environmentvariabledefinitions/{schema}/environmentvariabledefinition.xml" in files, schema
        elif kind == "20":
            assert r.get("id") in role_ids
        elif kind == "1":
            assert schema in entities
        elif kind == "80":
            assert schema in apps
        elif kind == "62":
            assert schema in sitemaps
        else:
            pytest.fail(f"root component of an unchecked type {kind}")
    role_names = {r.get("name") for r in custom.iter("Role") if r.get("name")}
    assert role_names == {"ActiveCampaign User", "ActiveCampaign Admin"}
    variables = {r.get("schemaName") for r in roots if r.get("type") == "380"}
    assert "acds_ApiUrl" in variables
    for variable in variables:
        d = xml(built, f"environmentvariabledefinitions/{variable}/environmentvariabledefinition.xml")
        assert d.get("schemaname") == variable
        assert d.findtext("type") == "100000000"  # String


def test_every_web_resource_is_in_the_zip_and_every_reference_resolves(built: zipfile.ZipFile) -> None:
    custom = xml(built, "customizations.xml")
    declared = {w.findtext("Name"): w for w in custom.iterfind("WebResources/WebResource")}
    assert "acds_/panel/index.html" in declared and "acds_/commands/commands.js" in declared
    types = {".html": "1", ".css": "2", ".js": "3", ".svg": "11"}
    for name, w in declared.items():
        assert name is not None
        assert w.findtext("FileName") == f"/WebResources/{name}"
        assert f"WebResources/{name}" in built.namelist()
        assert w.findtext("WebResourceType") == types[Path(name).suffix]
    in_zip = {n.removeprefix("WebResources/") for n in built.namelist() if n.startswith("WebResources/")}
    assert in_zip == set(declared)
    text = built.read("customizations.xml").decode()
    for ref in {part.split('"')[0] for part in text.split("$webresource:")[1:]}:
        assert ref in declared, ref
    roots = xml(built, "solution.xml").iter("RootComponent")
    manifest_61 = {r.get("schemaName") for r in roots if r.get("type") == "61"}
    assert manifest_61 == set(declared)


def test_the_panel_loads_only_files_of_the_solution(built: zipfile.ZipFile) -> None:
    """No CDN at run time: every script or stylesheet a page names is a web resource beside it."""
    import re

    names = set(built.namelist())
    for page in [n for n in names if n.endswith(".html")]:
        html = built.read(page).decode()
        for ref in re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html):
            assert not re.match(r"^(https?:)?//", ref), f"{page} loads {ref} from elsewhere"
            target = (Path(page).parent / ref).as_posix()
            assert os.path.normpath(target) in names, f"{page}: {ref} is not in the solution"


def test_one_publisher_prefix_throughout(built: zipfile.ZipFile) -> None:
    manifest = xml(built, "solution.xml").find("SolutionManifest")
    assert manifest is not None
    assert manifest.findtext("Publisher/CustomizationPrefix") == PREFIX
    assert (manifest.findtext("UniqueName") or "").startswith(f"{PREFIX}_")
    custom = xml(built, "customizations.xml")
    named = [r.get("schemaName") or "" for r in manifest.iter("RootComponent") if r.get("type") != "20"]
    named += [w.findtext("Name") or "" for w in custom.iterfind("WebResources/WebResource")]
    named += [e.text or "" for e in custom.iter("UniqueName")]
    named += [e.text or "" for e in custom.iter("SiteMapUniqueName")]
    for el in custom.iter():
        if el.tag in ("CustomAction", "Button", "CommandDefinition", "EnableRule", "LocLabel", "Area", "Group",
                      "SubArea") and el.get("Id"):
            named.append(el.get("Id") or "")
    for name in named:
        if name.lower() in PLATFORM_TABLES:
            continue
        assert name.startswith((f"{PREFIX}_", f"{PREFIX}.")), f"{name!r} is not under the {PREFIX} prefix"


def test_rebuilds_are_identical_and_a_missing_build_is_a_clear_error(built: zipfile.ZipFile, tmp_path: Path) -> None:
    dist = REAL_DIST if (REAL_DIST / "acds_" / "panel" / "index.html").exists() else _stand_in_dist(tmp_path / "d")
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    assert _build(dist, a).returncode == 0 and _build(dist, b).returncode == 0
    assert a.read_bytes() == b.read_bytes()
    missing = _build(tmp_path / "nothing", tmp_path / "c.zip")
    assert missing.returncode == 2
    assert "npm run build" in missing.stderr and "Traceback" not in missing.stderr
    bad = _build(dist, tmp_path / "d.zip", "--version", "1.0")
    assert bad.returncode == 2 and "--version" in bad.stderr
