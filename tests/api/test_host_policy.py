"""The host policy: each refusal names its field; local mode allows http and loopback, deployed mode does not."""

from __future__ import annotations

import pytest

from sync_core.model.hosts import DEFAULT_AC_HOSTS, HostPolicy, HostRefused, parse_host_patterns
from sync_core.settings import Settings
from tests.api.conftest import AZ_AC_URL, AZ_DV_URL, CID, Api

DEPLOYED = HostPolicy()
LOCAL = HostPolicy(local=True)


@pytest.mark.parametrize(("url", "service", "code"), [
    ("http://acme.api-us1.com", "activecampaign", "https_required"),
    ("https://acme.api-us1.com:8443", "activecampaign", "https_required"),
    ("https://user:pw@acme.api-us1.com", "activecampaign", "userinfo_not_allowed"),
    ("https://acme.api-us1.com@127.0.0.1", "activecampaign", "userinfo_not_allowed"),
    ("https://203.0.113.7", "activecampaign", "host_not_allowed"),
    ("https://[2001:db8::1]", "dynamics", "host_not_allowed"),
    ("https://localhost", "dynamics", "host_not_allowed"),
    ("https://acme.example.com", "activecampaign", "host_not_allowed"),
    ("https://api-us1.com", "activecampaign", "host_not_allowed"),
    ("https://org.crm.dynamics.com.evil.net", "dynamics", "host_not_allowed"),
    ("https://evil-dynamics.com", "dynamics", "host_not_allowed"),
    ("https://org.crm.dynamics.com", "activecampaign", "host_not_allowed"),
    ("https://acme.api-us1.com", "dynamics", "host_not_allowed"),
    ("https://org.crm.dynamics.com?x=1", "dynamics", "malformed_url"),
    ("ftp://org.crm.dynamics.com", "dynamics", "malformed_url"),
    ("not a url", "dynamics", "malformed_url"),
])
def test_deployed_refusals_name_the_field(url: str, service: str, code: str) -> None:
    with pytest.raises(HostRefused) as e:
        DEPLOYED.check_url(url, service, "the_field")  # type: ignore[arg-type]
    assert (e.value.field, e.value.code) == ("the_field", code), e.value.message


@pytest.mark.parametrize(("url", "service"), [
    ("https://acme.api-us1.com", "activecampaign"), ("https://acme.activehosted.com:443", "activecampaign"),
    ("https://org.crm.dynamics.com", "dynamics"), ("https://org.crm4.dynamics.com/", "dynamics"),
    ("https://org.crm9.dynamics.com", "dynamics"), ("https://org.crm.microsoftdynamics.us", "dynamics"),
    ("https://org.crm.appsplatform.us", "dynamics"), ("https://org.crm.dynamics.cn", "dynamics"),
])
def test_deployed_accepts_the_services_hosts(url: str, service: str) -> None:
    assert DEPLOYED.check_url(url, service, "f") == url.rstrip("/")  # type: ignore[arg-type]


def test_the_ac_refusal_says_how_to_add_a_host() -> None:
    with pytest.raises(HostRefused) as e:
        DEPLOYED.check_url("https://acme.ac-eu.example", "activecampaign", "activecampaign_api_url")
    assert "Developer" in e.value.message and "SYNC_AC_ALLOWED_HOSTS" in e.value.message
    extended = HostPolicy(activecampaign_hosts=parse_host_patterns("*.api-us1.com, *.ac-eu.example"))
    assert extended.check_url("https://acme.ac-eu.example", "activecampaign", "f") == "https://acme.ac-eu.example"


UNSPECIFIED = "0.0.0.0"  # noqa: S104 - an address to refuse, not a bind


@pytest.mark.parametrize("addresses", [["10.0.0.4"], ["127.0.0.1"], ["169.254.169.254"], ["::1"], ["fd00::1"],
                                       ["100.64.0.1"], [UNSPECIFIED], ["20.50.2.10", "192.168.1.9"],
                                       ["::ffff:10.0.0.1"], []])
async def test_deployed_refuses_a_name_that_resolves_to_a_non_public_address(addresses: list[str]) -> None:
    async def resolve(host: str) -> list[str]:
        return addresses

    with pytest.raises(HostRefused) as e:
        await HostPolicy(resolver=resolve).check("https://org.crm.dynamics.com", "dynamics", "dynamics_environment_url")
    assert (e.value.field, e.value.code) == ("dynamics_environment_url", "host_not_public")
    assert await HostPolicy(resolver=resolve, local=True).check("http://127.0.0.1:1", "dynamics", "f")


async def test_an_unresolvable_name_is_an_os_error_and_a_public_one_passes() -> None:
    async def nowhere(host: str) -> list[str]:
        raise OSError("no such host")

    async def public(host: str) -> list[str]:
        return ["20.50.2.10", "2603:1020::10"]

    with pytest.raises(OSError):
        await HostPolicy(resolver=nowhere).check("https://org.crm.dynamics.com", "dynamics", "f")
    assert await HostPolicy(resolver=public).check("https://org.crm.dynamics.com", "dynamics", "f")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8081", "http://localhost:7071", "https://[::1]:8443",
                                 "http://ac.sandbox", "http://10.1.2.3:9000/path"])
def test_local_mode_allows_http_and_loopback(url: str) -> None:
    assert LOCAL.check_url(url, "activecampaign", "f") == url
    with pytest.raises(HostRefused):
        DEPLOYED.check_url(url, "activecampaign", "f")


def test_local_mode_still_refuses_user_info() -> None:
    with pytest.raises(HostRefused) as e:
        LOCAL.check_url("http://a:b@127.0.0.1:80", "dynamics", "dynamics_environment_url")
    assert e.value.code == "userinfo_not_allowed"


def test_settings_build_the_policy() -> None:
    base = {"SYNC_STORAGE_CONNECTION_STRING": "x"}
    assert Settings.from_env(base).host_policy() == HostPolicy(local=False, activecampaign_hosts=DEFAULT_AC_HOSTS)
    assert Settings.from_env({**base, "SYNC_LOCAL_AUTH": "1"}).host_policy().local is True
    # Local mode never in Azure, whatever the flag says.
    assert Settings.from_env({**base, "SYNC_LOCAL_AUTH": "1", "WEBSITE_INSTANCE_ID": "i"}).host_policy().local is False
    policy = Settings.from_env({**base, "SYNC_AC_ALLOWED_HOSTS": "*.api-us1.com,acme.example-ac.com"}).host_policy()
    assert policy.activecampaign_hosts == ("*.api-us1.com", "acme.example-ac.com")
    with pytest.raises(ValueError, match="SYNC_AC_ALLOWED_HOSTS"):
        Settings.from_env({**base, "SYNC_AC_ALLOWED_HOSTS": "https://*.x.com"})


@pytest.mark.parametrize(("over", "field", "code"), [
    ({"activecampaign_api_url": "http://contoso.api-us1.com"}, "activecampaign_api_url", "https_required"),
    ({"activecampaign_api_url": "https://contoso.example.com"}, "activecampaign_api_url", "host_not_allowed"),
    ({"activecampaign_api_url": "https://127.0.0.1"}, "activecampaign_api_url", "host_not_allowed"),
    ({"dynamics_environment_url": "http://contoso.crm4.dynamics.com"}, "dynamics_environment_url", "https_required"),
    ({"dynamics_environment_url": "https://contoso.crm4.dynamics.com:444"}, "dynamics_environment_url",
     "https_required"),
    ({"dynamics_environment_url": "https://169.254.169.254"}, "dynamics_environment_url", "host_not_allowed"),
    ({"dynamics_environment_url": "https://x:y@contoso.crm4.dynamics.com"}, "dynamics_environment_url",
     "userinfo_not_allowed"),
    ({"dynamics_auth": {"kind": "static_token"}, "dynamics_secret": "t0ken"}, "dynamics_auth.kind",
     "auth_kind_not_allowed"),
])
async def test_deployed_connect_refuses_with_the_field(azure_api: Api, over: dict[str, object], field: str,
                                                       code: str) -> None:
    body = azure_api.connect_body(**{"dynamics_auth": {"kind": "default"}, "dynamics_secret": None,
                                     "dynamics_access_token": azure_api.user_token("Alex Admin"), **over})
    r = await azure_api.client.put(f"/api/connections/{CID}/connection", json=body, headers=azure_api.auth())
    assert r.status_code == 422, r.text
    assert (r.json()["error"]["field"], r.json()["error"]["code"]) == (field, code)


async def test_deployed_connect_with_the_apps_identity_and_the_callers_token(azure_api: Api) -> None:
    api = azure_api
    body = api.connect_body(dynamics_auth={"kind": "default"}, dynamics_secret=None)
    r = await api.client.put(f"/api/connections/{CID}/connection", json=body, headers=api.auth())
    assert (r.status_code, r.json()["error"]["field"]) == (422, "dynamics_access_token")
    # Someone else's token (Marie is an admin too): refused, it must be the caller's own.
    r = await api.client.put(f"/api/connections/{CID}/connection", headers=api.auth(),
                             json={**body, "dynamics_access_token": api.user_token("Marie Müller")})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "token_not_callers"), r.text
    r = await api.client.put(f"/api/connections/{CID}/connection", headers=api.auth(),
                             json={**body, "dynamics_access_token": "not-a-dataverse-token"})
    assert (r.status_code, r.json()["error"]["field"]) == (422, "dynamics_access_token"), r.text
    r = await api.client.put(f"/api/connections/{CID}/connection", headers=api.auth("Sam Seller"),
                             json={**body, "dynamics_access_token": api.user_token("Sam Seller")})
    assert r.status_code == 403, r.text
    r = await api.client.put(f"/api/connections/{CID}/connection", headers=api.auth(),
                             json={**body, "dynamics_access_token": api.user_token("Alex Admin")})
    assert r.status_code == 200, r.text
    assert (r.json()["activecampaign_api_url"], r.json()["dynamics_environment_url"]) == (AZ_AC_URL, AZ_DV_URL)
    # In use: the stored credential at the stored host establishes roles; no user token is needed any more.
    r = await api.client.put(f"/api/connections/{CID}/connection", headers=api.auth(), json=body)
    assert r.status_code == 200, r.text
    assert (await api.client.get(f"/api/connections/{CID}/users", headers=api.auth())).status_code == 200
