from __future__ import annotations

from tests.api.conftest import CID, Api


async def test_connect_and_read(api: Api) -> None:
    r = await api.client.get("/api/health")
    assert r.status_code == 200
    view = await api.connect()
    assert view["connected"] is True
    assert api.ac_key not in str(view)
    r = await api.client.get(f"/api/connections/{CID}/connection", headers=api.auth())
    assert r.status_code == 200, r.text
    r = await api.client.get(f"/api/connections/{CID}/config", headers=api.auth())
    assert r.status_code == 200, r.text
