"""Issue 13, item 1: no caller can make the server send a stored secret to a host of their choosing.

Reproduces the report: callers without the admin role (no Dynamics role, an ActiveCampaign User,
an object id that is no Dynamics user) name each stored secret — in the body, by pointing an
existing or new connection at a loopback capture server, with ``static_token`` in deployed mode,
with the app's identity and no user token — and the capture server receives nothing at all: no
secret, no bearer token, not even a request. The worker and ``config apply`` hold too.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sync_core.model.errors import ConfigurationError
from sync_core.model.secrets import secret_names
from tests.api.capture import CaptureServer, ForwardTo
from tests.api.conftest import CID, DV_TOKEN, Api

UNKNOWN_OID = "0badc0de-0000-4000-8000-000000000000"
CALLERS = ("Nina Norole", "Sam Seller", None)
LEGACY = ("ac-api-key-contoso", "dynamics-secret-contoso", "ac-api-key-demo", "dynamics-secret-demo")


def headers(api: Api, who: str | None) -> dict[str, str]:
    return api.auth(who, oid=UNKNOWN_OID if who is None else None)


async def stored_secrets(api: Api) -> dict[str, str]:
    """The connection's secrets, plus the same values under schema-1-style names (what the report named)."""
    config = await api.rt.store.get_config(CID)
    assert config is not None
    names = secret_names(config)
    values = {name: str(await api.rt.secrets.get_secret(name)) for name in names.values()}
    for legacy in LEGACY:
        value = api.ac_key if legacy.startswith("ac-") else DV_TOKEN
        await api.rt.secrets.set_secret(legacy, value)
        values[legacy] = value
    assert set(values.values()) == {api.ac_key, DV_TOKEN}
    return values


def attempts(api: Api, capture: str, name: str) -> list[tuple[str, dict[str, Any]]]:
    """(connection id, body) of every way we found to name a stored secret or aim a credential elsewhere."""
    return [
        (CID, api.connect_body(dynamics_auth={"kind": "static_token", "secret_name": name},
                               dynamics_secret=None)),
        (CID, api.connect_body(dynamics_environment_url=capture,
                               dynamics_auth={"kind": "static_token", "secret_name": name}, dynamics_secret=None)),
        ("newconn", api.connect_body(dynamics_environment_url=capture,
                                     dynamics_auth={"kind": "static_token", "secret_name": name},
                                     dynamics_secret=None)),
        (CID, api.connect_body(activecampaign_api_key_secret=name)),
        ("newconn", api.connect_body(activecampaign_api_url=capture, activecampaign_api_key_secret=name)),
        (CID, api.connect_body(dynamics_environment_url=capture, dynamics_secret=None)),
        (CID, api.connect_body(activecampaign_api_url=capture, dynamics_secret=None)),
        (CID, api.connect_body(dynamics_environment_url=capture, dynamics_auth={"kind": "default"},
                               dynamics_secret=None)),
        ("newconn", api.connect_body(dynamics_environment_url=capture, dynamics_secret=None)),
        ("newconn", api.connect_body(dynamics_environment_url=capture, dynamics_auth={"kind": "managed_identity"},
                                     dynamics_secret=None)),
        ("newconn", api.connect_body(dynamics_environment_url=capture, dynamics_auth={"kind": "default"},
                                     dynamics_secret=None, activecampaign_api_url=capture)),
        ("newconn", api.connect_body(dynamics_environment_url=capture.replace("http://", "http://dataverse.sandbox@"),
                                     dynamics_secret=None)),
    ]


async def test_no_caller_without_the_admin_role_gets_a_stored_secret_sent_anywhere(api: Api) -> None:
    await api.connect()
    secrets = await stored_secrets(api)
    with CaptureServer() as capture:
        statuses: dict[int, int] = {}
        for who in CALLERS:
            for name in secrets:
                for cid, body in attempts(api, capture.url, name):
                    r = await api.client.put(f"/api/connections/{cid}/connection", json=body,
                                             headers=headers(api, who))
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    assert r.status_code in (403, 404, 422), (who, cid, body, r.status_code, r.text)
                    if "secret_name" in str(body):
                        assert r.json()["error"]["field"] == "dynamics_auth.secret_name", r.text
                    if "activecampaign_api_key_secret" in body:
                        assert r.json()["error"]["field"] == "activecampaign_api_key_secret", r.text
        assert capture.requests == [], capture.requests  # no secret, no bearer token: nothing at all
    assert set(statuses) == {403, 404, 422}, statuses
    # Nothing was stored or created by any attempt.
    assert await api.rt.store.get_config("newconn") is None
    config = await api.rt.store.get_config(CID)
    assert config is not None and config.dynamics.environment_url == api.dv_url
    for name, value in secrets.items():
        assert await api.rt.secrets.get_secret(name) == value


async def test_an_admin_cannot_point_a_stored_secret_at_a_new_host(api: Api) -> None:
    """Even an admin must send the new host's secret with the host: the stored one stays bound to its own."""
    await api.connect()
    with CaptureServer() as capture:
        r = await api.client.put(f"/api/connections/{CID}/connection", headers=api.auth(),
                                 json=api.connect_body(dynamics_environment_url=capture.url, dynamics_secret=None))
        assert (r.status_code, r.json()["error"]["field"]) == (422, "dynamics_secret"), r.text
        r = await api.client.put(f"/api/connections/{CID}/connection", headers=api.auth(),
                                 json=api.connect_body(dynamics_environment_url=capture.url,
                                                       dynamics_auth={"kind": "default"}, dynamics_secret=None))
        assert (r.status_code, r.json()["error"]["field"]) == (422, "dynamics_access_token"), r.text
        assert capture.requests == []
        # The control: with the new host's own secret, that secret (and only it) goes there.
        r = await api.client.put(f"/api/connections/{CID}/connection", headers=api.auth(),
                                 json=api.connect_body(dynamics_environment_url=capture.url,
                                                       dynamics_secret="the-new-hosts-token"))
        assert (r.status_code, r.json()["error"]["code"]) == (422, "dynamics_not_found"), r.text
        assert len(capture.requests) == 1
        assert capture.requests[0].headers["Authorization"] == "Bearer the-new-hosts-token"
        assert capture.seen(DV_TOKEN, api.ac_key) == []


async def test_deployed_mode_refuses_static_tokens_loopback_and_identity_without_a_user_token(azure_api: Api) -> None:
    api = azure_api
    with CaptureServer() as capture:
        # An allowed Dynamics host name that leads to the capture server: only a policy refusal keeps it empty.
        router = api.app.state.api.clients.dv_transport
        router.apps = {**router.apps, "evil.crm.dynamics.com": ForwardTo(capture)}
        evil = "https://evil.crm.dynamics.com"
        cases = [
            ({"dynamics_environment_url": evil, "dynamics_auth": {"kind": "static_token"},
              "dynamics_secret": DV_TOKEN}, "dynamics_auth.kind"),
            ({"dynamics_environment_url": evil, "dynamics_auth": {"kind": "static_token", "secret_name": "x"}},
             "dynamics_auth.secret_name"),
            ({"dynamics_environment_url": evil, "dynamics_auth": {"kind": "managed_identity"}},
             "dynamics_access_token"),
            ({"dynamics_environment_url": evil, "dynamics_auth": {"kind": "default"}}, "dynamics_access_token"),
            ({"dynamics_environment_url": capture.url, "dynamics_auth": {"kind": "default"}},
             "dynamics_environment_url"),
            ({"activecampaign_api_url": capture.url, "dynamics_auth": {"kind": "default"}}, "activecampaign_api_url"),
        ]
        for who in (*CALLERS, "Alex Admin"):
            for over, field in cases:
                body = api.connect_body(**{"dynamics_secret": None, **over})
                r = await api.client.put("/api/connections/newconn/connection", json=body, headers=headers(api, who))
                assert (r.status_code, r.json()["error"]["field"]) == (422, field), (who, over, r.text)
        assert capture.requests == []
    assert await api.rt.store.get_config("newconn") is None


async def test_the_worker_never_sends_a_stored_secret_to_a_changed_host(api: Api) -> None:
    """A saved connection whose host changed (an operator's edit, a stale copy): its secrets have other names."""
    await api.connect()
    config = await api.rt.store.get_config(CID)
    assert config is not None
    config.sync.global_enabled = True
    with CaptureServer() as capture:
        for field in ("dynamics", "activecampaign"):
            changed = config.model_copy(deep=True)
            if field == "dynamics":
                changed.dynamics.environment_url = capture.url
            else:
                changed.activecampaign.api_url = capture.url
            await api.rt.store.save_config(changed)
            # The factory refuses before any call (today run_pass lets that ConfigurationError out; the runner's
            # recording of it is the lead's half of issue 13).
            with pytest.raises(ConfigurationError, match=r"secret store|no ActiveCampaign API key"):
                await api.rt.engine.run_pass(CID, reason="test")
        assert capture.requests == []


async def test_no_client_follows_a_redirect_with_its_credential(api: Api) -> None:
    """The configured host answers 302 to another one: that other host never sees the key or the token."""
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.dynamics import DataverseClient, StaticTokenCredential
    from sync_core.model.budget import SlidingWindowBudget

    with CaptureServer() as elsewhere, CaptureServer(redirect_to=elsewhere.url) as redirecting:
        async with DataverseClient(redirecting.url, StaticTokenCredential(DV_TOKEN), clock=api.clock,
                                   max_retries=0) as dv:
            try:
                await dv.who_am_i()
            except Exception as e:  # noqa: BLE001 - any refusal is fine; following the redirect is not
                assert not isinstance(e, AssertionError)
        ac = ActiveCampaignClient(redirecting.url, api.ac_key, clock=api.clock, max_retries=0,
                                  budget=SlidingWindowBudget(5, 1.0, clock=api.clock))
        try:
            await ac.get_me()
        except Exception as e:  # noqa: BLE001
            assert not isinstance(e, AssertionError)
        finally:
            await ac.aclose()
        assert len(redirecting.requests) == 2
        assert elsewhere.requests == []
        # Through the API: connect to an environment that redirects is a 4xx, and the redirect target sees nothing.
        r = await api.client.put("/api/connections/newconn/connection", headers=api.auth(),
                                 json=api.connect_body(dynamics_environment_url=redirecting.url))
        assert r.status_code in (422, 502), r.text
        assert elsewhere.requests == []
    async with httpx.AsyncClient() as plain:
        assert plain.follow_redirects is False  # the JWKS fetch uses httpx's default
