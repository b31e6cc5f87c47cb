"""Build the unmanaged solution zip from the sources in solution/package and the built web resources.

    python solution/build_solution.py [--dist solution/dist] [--out solution/out/acds_ActiveCampaignSync.zip]
                                      [--version 1.0.0.0]

The zip has the documented layout: ``solution.xml``, ``customizations.xml``,
``[Content_Types].xml``, ``WebResources/<name>`` per web resource (named in customizations.xml with
its type), and ``environmentvariabledefinitions/<schema>/environmentvariabledefinition.xml``.
GUIDs are derived from names (uuid5), so a rebuild gives the same ids and an import updates in
place. Exits 2 with a short message when the web resources are not built or a source is broken.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
import zipfile
from pathlib import Path
from xml.dom import minidom
from xml.parsers.expat import ExpatError
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "package"
PREFIX = "acds_"
SOLUTION = "acds_ActiveCampaignSync"
NAMESPACE = uuid.UUID("6d1f2f0e-8a43-4c1e-9b4f-3c0d2a7e5b19")
# Web resource types (webresource.webresourcetype): 1 HTML, 2 CSS, 3 JScript, 11 SVG.
TYPES = {".html": 1, ".htm": 1, ".css": 2, ".js": 3, ".svg": 11}
EXTRA = {f"{PREFIX}/commands/icon.svg": PACKAGE / "icon.svg"}
PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)(?::([^}]*))?\}\}")


class BuildError(Exception):
    pass


def stable_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}"))


def web_resources(dist: Path) -> dict[str, Path]:
    """Name (``acds_/panel/index.html``) → file, for every built file and the package's own."""
    root = dist / PREFIX
    if not (root / "panel" / "index.html").is_file():
        raise BuildError(f"{root} has no built panel: run `npm ci && npm run build` in solution/ first")
    found = {f"{PREFIX}/{p.relative_to(root).as_posix()}": p for p in sorted(root.rglob("*")) if p.is_file()}
    found.update(EXTRA)
    for name in found:
        if Path(name).suffix not in TYPES:
            raise BuildError(f"{name}: no web resource type for {Path(name).suffix} files")
    return found


def web_resource_xml(name: str) -> str:
    display = escape(name)
    return (f"    <WebResource>\n      <WebResourceId>{{{stable_id('webresource', name)}}}</WebResourceId>\n"
            f"      <Name>{display}</Name>\n      <DisplayName>{display}</DisplayName>\n"
            f"      <WebResourceType>{TYPES[Path(name).suffix]}</WebResourceType>\n"
            "      <IntroducedVersion>1.0.0.0</IntroducedVersion>\n"
            "      <IsEnabledForMobileClient>0</IsEnabledForMobileClient>\n"
            "      <IsAvailableForMobileOffline>0</IsAvailableForMobileOffline>\n"
            "      <IsCustomizable>1</IsCustomizable>\n      <CanBeDeleted>1</CanBeDeleted>\n"
            f"      <IsHidden>0</IsHidden>\n      <FileName>/WebResources/{display}</FileName>\n    </WebResource>")


def fill(text: str, values: dict[str, str], *, source: str) -> str:
    def one(m: re.Match[str]) -> str:
        key, arg = m.group(1), m.group(2)
        if key == "ROLE_ID" and arg:
            return stable_id("role", arg)
        if key == "WEB_RESOURCE_ID" and arg:
            return stable_id("webresource", arg)
        if key == "RIBBON" and arg:
            return (PACKAGE / "ribbon.xml").read_text(encoding="utf-8").split("-->", 1)[1].strip().replace(
                "{{ENTITY}}", arg)
        if key in values:
            return values[key]
        raise BuildError(f"{source}: unknown placeholder {m.group(0)}")

    return PLACEHOLDER.sub(one, text)


def well_formed(name: str, data: bytes) -> None:
    try:
        minidom.parseString(data)  # noqa: S318 - the repo's own source files, not input
    except ExpatError as e:
        raise BuildError(f"{name} is not well-formed XML: {e}") from None


def build(dist: Path, out: Path, version: str) -> list[str]:
    if not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", version):
        raise BuildError(f"--version {version!r}: expected four numbers, like 1.0.0.0")
    resources = web_resources(dist)
    roots = "\n".join(f'      <RootComponent type="61" schemaName="{escape(n)}" behavior="0" />' for n in resources)
    values = {"VERSION": version, "WEB_RESOURCE_ROOTS": roots,
              "WEB_RESOURCES": "\n".join(web_resource_xml(n) for n in resources)}
    files: dict[str, bytes] = {}
    for name in ("solution.xml", "customizations.xml", "[Content_Types].xml"):
        files[name] = fill((PACKAGE / name).read_text(encoding="utf-8"), values, source=name).encode("utf-8")
    for path in sorted((PACKAGE / "environmentvariabledefinitions").rglob("*.xml")):
        files[path.relative_to(PACKAGE).as_posix()] = path.read_bytes()
    for name, data in files.items():
        well_formed(name, data)
    for name, path in resources.items():
        files[f"WebResources/{name}"] = path.read_bytes()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files, key=lambda n: (n != "[Content_Types].xml", n)):
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), files[name],
                       compress_type=zipfile.ZIP_DEFLATED)
    return sorted(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python solution/build_solution.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=HERE / "dist")
    parser.add_argument("--out", type=Path, default=HERE / "out" / f"{SOLUTION}.zip")
    parser.add_argument("--version", default="1.0.0.0")
    args = parser.parse_args(argv)
    try:
        names = build(args.dist, args.out, args.version)
    except (BuildError, OSError) as e:
        print(f"build_solution: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({len(names)} files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
