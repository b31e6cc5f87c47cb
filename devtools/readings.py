"""Run the engine's scenario tests once per reading of each sandbox register entry on the sync path.

    python -m devtools.readings [--jobs 2] [--only NAME ...] [--inbound] [--list] [-- PYTEST ARGS]

The sandboxes' registers (``sandbox/*/ASSUMPTIONS.md``) list behaviours no primary source confirms,
each behind a switch. Issue 6 asks that the scenario tests hold under every reading that touches the
Dynamics -> ActiveCampaign path, and issue 16 the same of the ActiveCampaign -> Dynamics path: this
runs ``pytest tests/engine`` once as is, then with ``--sandbox-switch`` set to each non-default value
in turn (one Azurite for all runs, ``--jobs`` runs at once), prints a line per reading and exits 1 if
any run failed. The default run is traced (``ACDS_READINGS_TRACE``: which register switches each test's
stand-ins read, ``sandbox/register_reads.py``) and each reading runs only the tests that read its switch: a
test that never reads it is answered exactly as under the default, so running it again proves nothing.
``--every-test`` runs the whole selection under every reading instead. ``--inbound`` runs only the
inbound scenario tests (:data:`INBOUND_TESTS`) under every reading. Switches off both paths are listed in
``NOT_OUTBOUND`` with the reason;
``tests/engine/test_register_readings.py`` fails when a switch is in neither list.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.azurite import ROOT, connection_string_from_env, running_azurite

# Switches whose allowed values are open-ended: the readings swept.
OPEN_VALUES: dict[tuple[str, str], tuple[Any, ...]] = {
    ("ac", "account_timezone"): ("UTC", "Asia/Tokyo", "Pacific/Kiritimati"),
    ("ac", "import_delay_seconds"): (0, 300),
}

NOT_OUTBOUND: dict[tuple[str, str], str] = {
    ("ac", "v1_header_auth"): "v1 serves only the campaign-send sales action, not the sync",
    ("dataverse", "state_patch"): "no path writes lead/opportunity state to Dynamics (the pull maps no state)",
    ("dataverse", "role_other_bu_code"): "security-role administration (admin API), not the sync",
    ("dataverse", "role_copies_to_child_bus"): "security-role administration (admin API), not the sync",
    ("dataverse", "reassociate_duplicate"): "security-role administration (admin API), not the sync",
    ("dataverse", "qualify_closed_lead"): "QualifyLead is not called by the sync",
}
"""Switches on neither path (the name is older than the inbound path)."""
INBOUND_TESTS = ["tests/engine/test_pull.py", "tests/engine/test_pull_inactive.py", "tests/engine/test_ac_changes.py",
                 "tests/engine/test_ac_recheck.py"]
"""The ActiveCampaign -> Dynamics scenarios (issue 16): pulls, directions, echoes, conflicts, 412, batches."""
INBOUND_FIRST = ("updated_after_tz", "updated_after_granularity", "account_timezone", "contacts_list_include",
                 "udate_on_tag_change", "udate_on_list_change", "udate_on_import", "udate_on_noop_update",
                 "account_udate_on_noop", "account_udate_on_contact_link", "dropdown_value_format",
                 "rate_limit_status", "contacts_default_order", "concurrency_code", "max_length_unit",
                 "inactive_update", "bind_missing_status", "filter_accent_insensitive", "skiptoken_format",
                 "top_with_maxpagesize", "customer_acct_name")
"""With ``--inbound``, these switches (what the pull reads and writes) are swept first, then the others
(which the inbound tests' initial push meets)."""


@dataclass(frozen=True, slots=True)
class Reading:
    sandbox: str
    name: str
    value: Any

    @property
    def options(self) -> list[str]:
        return [] if self is DEFAULTS else ["--sandbox-switch", f"{self.sandbox}:{self.name}={json.dumps(self.value)}"]

    @property
    def label(self) -> str:
        return "(every switch at its default)" if self is DEFAULTS else f"{self.sandbox}:{self.name}={self.value}"


DEFAULTS = Reading("", "", None)
"""The baseline run: nothing flipped."""


def register() -> dict[tuple[str, str], tuple[Any, tuple[Any, ...] | None]]:
    """Every switch of both sandboxes: (default, allowed values or None when open-ended)."""
    from sandbox.activecampaign.switches import SPECS
    from sandbox.dynamics.switches import SWITCHES

    out: dict[tuple[str, str], tuple[Any, tuple[Any, ...] | None]] = {
        ("ac", s.name): (s.default, s.choices) for s in SPECS}
    out.update({("dataverse", name): (default, choices) for name, (default, choices) in SWITCHES.items()})
    return out


def outbound_readings() -> list[Reading]:
    """Each non-default value of each switch on the outbound path."""
    readings: list[Reading] = []
    for (sandbox, name), (default, choices) in register().items():
        if (sandbox, name) in NOT_OUTBOUND:
            continue
        values = choices if choices is not None else OPEN_VALUES[(sandbox, name)]
        readings.extend(Reading(sandbox, name, v) for v in values
                        if not (v == default and type(v) is type(default)))
    return readings


@dataclass(slots=True)
class Outcome:
    reading: Reading
    code: int
    summary: str
    seconds: float
    log: Path


SUMMARY = re.compile(r"^=+ (.*(passed|failed|error).*) =+$|^(\d+ (passed|failed).*)$", re.MULTILINE)


def _run(reading: Reading, storage: str | None, pytest_args: list[str], logs: Path,
         trace: Path | None = None) -> Outcome:
    name = "defaults" if reading is DEFAULTS else f"{reading.sandbox}-{reading.name}-{reading.value}"
    log = logs / f"{name}.log".replace("/", "_")
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k not in ("AZURITE_CONNECTION_STRING", "ACDS_READINGS_TRACE")}
    if storage:
        env["AZURITE_CONNECTION_STRING"] = storage
    if trace is not None:
        env["ACDS_READINGS_TRACE"] = str(trace)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *reading.options, *pytest_args]
    with log.open("w") as out:
        code = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    text = log.read_text()
    found = SUMMARY.findall(text)
    summary = (found[-1][0] or found[-1][2]) if found else f"exit {code}, no summary"
    return Outcome(reading, code, summary, time.perf_counter() - started, log)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    p = argparse.ArgumentParser(prog="python -m devtools.readings", description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=2, help="pytest runs at once (default 2)")
    p.add_argument("--only", action="append", default=[], metavar="NAME", help="only these switches")
    p.add_argument("--inbound", action="store_true", help="only the inbound scenario tests (INBOUND_TESTS)")
    p.add_argument("--list", action="store_true", help="print the readings and the switches left out, then stop")
    p.add_argument("--every-test", action="store_true",
                   help="run every selected test under every reading (default: only the tests that read its switch)")
    p.add_argument("--azurite-per-run", action="store_true",
                   help="each pytest run starts its own Azurite (a shared one slows as tables pile up)")
    args = p.parse_args(argv)
    readings = [DEFAULTS] + [r for r in outbound_readings() if not args.only or r.name in args.only]
    if args.inbound:
        readings.sort(key=lambda r: r is not DEFAULTS and r.name not in INBOUND_FIRST)
    if args.list:
        for r in readings:
            print(r.label)
        for (sandbox, name), why in NOT_OUTBOUND.items():
            print(f"not swept: {sandbox}:{name}: {why}")
        return 0
    pytest_args = extra or (list(INBOUND_TESTS) if args.inbound else ["tests/engine"])
    logs = Path(tempfile.mkdtemp(prefix="readings-"))
    print(f"{len(readings)} readings x pytest {' '.join(pytest_args)}; {args.jobs} at once; logs in {logs}",
          flush=True)
    sweep = Sweep(readings, pytest_args, logs, args.jobs, traced=not args.every_test)
    if args.azurite_per_run:
        return sweep.run(None)
    storage = connection_string_from_env()
    if storage:
        return sweep.run(storage)
    with running_azurite() as az:
        return sweep.run(az.connection_string)


def tests_by_switch(trace: Path) -> dict[str, list[str]]:
    """``sandbox:name`` -> the tests (node ids, in run order) whose stand-ins read that switch."""
    out: dict[str, list[str]] = {}
    lines = trace.read_text(encoding="utf-8").splitlines() if trace.exists() else []
    for line in lines:
        entry = json.loads(line)
        for switch in entry["read"]:
            tests = out.setdefault(switch, [])
            if entry["test"] not in tests:
                tests.append(entry["test"])
    return out


@dataclass(slots=True)
class Sweep:
    readings: list[Reading]
    pytest_args: list[str]
    logs: Path
    jobs: int
    traced: bool

    def run(self, storage: str | None) -> int:
        started = time.perf_counter()
        trace = self.logs / "trace.jsonl" if self.traced else None
        base = _run(DEFAULTS, storage, self.pytest_args, self.logs, trace)
        failed = self._print(base, "")
        by_switch = tests_by_switch(trace) if trace is not None else {}
        options = [a for a in self.pytest_args if a.startswith("-")]
        with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
            futures = []
            for r in self.readings[1:]:
                tests = by_switch.get(f"{r.sandbox}:{r.name}") if trace is not None else self.pytest_args
                futures.append((pool.submit(_run, r, storage, [*options, *tests], self.logs) if tests else None,
                                r, len(tests or ())))
            for future, reading, count in futures:
                if future is None:
                    print(f"ok   {reading.label:<55} no test reads it: answered as the default run", flush=True)
                    continue
                failed += self._print(future.result(), f"{count} tests read it; " if trace is not None else "")
        print(f"{len(self.readings) - failed} of {len(self.readings)} readings passed in "
              f"{time.perf_counter() - started:,.0f} s")
        return 1 if failed else 0

    @staticmethod
    def _print(o: Outcome, prefix: str) -> int:
        ok = o.code == 0
        print(f"{'ok  ' if ok else 'FAIL'} {o.reading.label:<55} {prefix}{o.summary}  ({o.seconds:,.0f} s)"
              + ("" if ok else f"  log: {o.log}"), flush=True)
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
