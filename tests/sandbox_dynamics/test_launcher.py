"""`python -m sandbox` over real loopback sockets (a subprocess on free ports, bounded, cleaned up)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.ports import free_port

from .conftest import API, TOKEN

ROOT = Path(__file__).parents[2]


@pytest.fixture
def launched() -> Iterator[dict[str, str]]:
    ac_port, dv_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--ac-port", str(ac_port), "--dynamics-port", str(dv_port),
         "--seed-contacts", "200", "--seed", "4"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        urls: dict[str, str] = {}
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while "dynamics" not in urls and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            name, _, rest = line.partition(": ")
            urls[name] = rest.split()[0]
        assert "dynamics" in urls, proc.stderr.read() if proc.stderr and proc.poll() is not None else urls
        yield urls
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_loopback_launcher(launched: dict[str, str]) -> None:
    base = launched["dynamics"]
    assert base.endswith(API)
    root = base[: -len(API)]
    with httpx.Client(base_url=root, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as c:
        assert c.get(API + "contacts/$count").text == "200"
        body = c.get(API + "contacts?$select=lastname", headers={"Prefer": "odata.maxpagesize=150"}).json()
        assert body["@odata.nextLink"].startswith(base + "contacts?")
        assert len(c.get(body["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=150"}).json()["value"]) == 50
        before = c.get("/_sandbox/clock").json()["time"]
        after = c.post("/_sandbox/clock", json={"advance": 3600}).json()["time"]
        assert after - before >= 3600
        c.post("/_sandbox/faults", json={"drop_next": 1})
        with pytest.raises(httpx.TransportError):
            c.get(API + "WhoAmI")
        assert c.get(API + "WhoAmI").status_code == 200
        assert c.get(API + "WhoAmI", headers={"Authorization": "Bearer wrong"}).status_code == 401
    if "activecampaign" in launched:  # same clock on both sides
        ac_clock = httpx.get(launched["activecampaign"] + "/_sandbox/clock", timeout=10)
        if ac_clock.status_code == 200 and "time" in ac_clock.json():
            assert abs(float(ac_clock.json()["time"]) - after) < 60
