"""Private networking (issue 14): the VNet, the app's outbound integration, private endpoints with their
DNS zones for storage blob/queue/table and Key Vault, and the vnetEnabled switch that removes them and
re-opens public network access for a quick trial."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.bicep import (
    INFRA,
    MAIN,
    Symbol,
    evaluate,
    expr,
    module,
    module_env,
    modules,
    one,
    parameter_defaults,
    parse,
    resource,
)

NETWORK = INFRA / "modules/network.bicep"
ENDPOINT = INFRA / "modules/private-endpoint.bicep"


def _main_env(vnet_enabled: bool | None = None) -> dict[str, Any]:
    env = parameter_defaults(MAIN)
    if vnet_enabled is not None:
        env["vnetEnabled"] = vnet_enabled
    return env


def test_vnet_is_on_by_default() -> None:
    param = parse(MAIN)["parameters"]["vnetEnabled"]
    assert param["type"] == "bool"
    assert param["default"] is True


def test_private_endpoints_cover_blob_queue_table_and_vault() -> None:
    calls = [m for m in modules(NETWORK) if m.target == ENDPOINT]
    by_group = {m.params["groupId"]: {k: expr(v) for k, v in m.params.items()} for m in calls}
    assert set(by_group) == {"blob", "queue", "table", "vault"}
    assert len(calls) == 4, "one endpoint per sub-resource"
    for group in ("blob", "queue", "table"):
        assert by_group[group]["targetResourceId"] == "storageAccountId"
        assert by_group[group]["dnsZoneName"] == f"privatelink.{group}.${{environment().suffixes.storage}}"
    assert by_group["vault"]["targetResourceId"] == "keyVaultId"
    for params in by_group.values():
        assert params["subnetId"] == "endpointSubnetId"
        assert params["vnetId"] == "vnet.id"
    assert {m.condition for m in calls} == {None}
    net = module(MAIN, "network")
    assert expr(net.params["storageAccountId"]) == "storage.outputs.id"
    assert expr(net.params["keyVaultId"]) == "keyVault.outputs.id"


def test_vault_zone_is_privatelink_vaultcore_in_every_cloud() -> None:
    (vault,) = [m for m in modules(NETWORK) if m.params.get("groupId") == "vault"]
    template = vault.params["dnsZoneName"]
    assert template == "privatelink${replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.')}"
    # environment().suffixes.keyvaultDns per cloud -> the documented private DNS zone.
    for suffix, zone in ((".vault.azure.net", "privatelink.vaultcore.azure.net"),
                         (".vault.azure.cn", "privatelink.vaultcore.azure.cn"),
                         (".vault.usgovcloudapi.net", "privatelink.vaultcore.usgovcloudapi.net")):
        assert "privatelink" + suffix.replace(".vault.", ".vaultcore.") == zone


def test_each_endpoint_has_its_zone_vnet_link_and_zone_group() -> None:
    zone = resource(ENDPOINT, "zone")
    assert zone.type == "Microsoft.Network/privateDnsZones"
    assert zone.body["name"] == "dnsZoneName"
    assert zone.body["location"] == "global"
    link = resource(ENDPOINT, "vnetLink")
    assert link.type == "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
    assert link.body["parent"] == "zone"
    assert link.body["location"] == "global"
    assert link.body["properties"] == {"registrationEnabled": False, "virtualNetwork": {"id": "vnetId"}}
    endpoint = resource(ENDPOINT, "endpoint")
    assert endpoint.type == "Microsoft.Network/privateEndpoints"
    props = endpoint.body["properties"]
    assert props["subnet"] == {"id": "subnetId"}
    (connection,) = props["privateLinkServiceConnections"]
    assert connection["properties"] == {"privateLinkServiceId": "targetResourceId", "groupIds": ["groupId"]}
    group = resource(ENDPOINT, "zoneGroup")
    assert group.type == "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"
    assert group.body["parent"] == "endpoint"
    (config,) = group.body["properties"]["privateDnsZoneConfigs"]
    assert expr(config["properties"]["privateDnsZoneId"]) == "zone.id"
    for r in (zone, link, endpoint, group):
        assert not r.conditional and not r.existing
    allowed = parse(ENDPOINT)["parameters"]["groupId"]["decorators"]
    assert {"type": "allowed", "argument": ["blob", "queue", "table", "vault"]} in allowed


def test_subnets_one_delegated_to_flex_one_for_endpoints() -> None:
    vnet = one("Microsoft.Network/virtualNetworks").body
    variables = {k: v["value"] for k, v in parse(NETWORK)["variables"].items()}
    subnets = {variables.get(s["name"], s["name"]): s["properties"] for s in vnet["properties"]["subnets"]}
    assert set(subnets) == {"app", "private-endpoints"}
    assert all("_" not in name for name in subnets), "Flex Consumption refuses subnet names with '_'"
    (delegation,) = subnets["app"]["delegations"]
    assert delegation["properties"]["serviceName"] == "Microsoft.App/environments"
    assert subnets["private-endpoints"]["privateEndpointNetworkPolicies"] == "Disabled"
    assert "delegations" not in subnets["private-endpoints"]
    for props in subnets.values():
        assert "networkSecurityGroup" in props
    assert variables["endpointSubnetId"] == "${vnet.id}/subnets/${endpointSubnetName}"
    outputs = {k: expr(v["value"]) for k, v in parse(NETWORK)["outputs"].items()}
    assert outputs["appSubnetId"] == "${vnet.id}/subnets/${appSubnetName}"


def test_app_integrates_with_the_app_subnet_after_the_endpoints_exist() -> None:
    fn = module(MAIN, "functionApp")
    assert "network" in fn.body["dependsOn"]
    site = one("Microsoft.Web/sites").body["properties"]
    assert expr(site["virtualNetworkSubnetId"]) != "", "the site must take the subnet"


@pytest.mark.parametrize("vnet_enabled", [True, False], ids=["vnet", "no-vnet"])
def test_vnet_enabled_switches_endpoints_and_public_access(vnet_enabled: bool) -> None:
    env = _main_env(vnet_enabled)
    assert evaluate(module(MAIN, "network").condition, env) is vnet_enabled

    storage_env = module_env(module(MAIN, "storage"), env)
    storage = one("Microsoft.Storage/storageAccounts").body["properties"]
    assert evaluate(storage["publicNetworkAccess"], storage_env) == ("Disabled" if vnet_enabled else "Enabled")
    assert evaluate(storage["networkAcls"]["defaultAction"], storage_env) == ("Deny" if vnet_enabled else "Allow")

    vault_env = module_env(module(MAIN, "keyVault"), env)
    vault = one("Microsoft.KeyVault/vaults").body["properties"]
    assert evaluate(vault["publicNetworkAccess"], vault_env) == ("Disabled" if vnet_enabled else "Enabled")
    assert evaluate(vault["networkAcls"]["defaultAction"], vault_env) == ("Deny" if vnet_enabled else "Allow")

    fn_env = module_env(module(MAIN, "functionApp"), env)
    subnet = evaluate(one("Microsoft.Web/sites").body["properties"]["virtualNetworkSubnetId"], fn_env)
    assert subnet == (Symbol("network.outputs.appSubnetId") if vnet_enabled else None)


def test_default_deployment_is_the_private_one() -> None:
    env = _main_env()
    assert evaluate(module(MAIN, "network").condition, env) is True
    storage = one("Microsoft.Storage/storageAccounts").body["properties"]
    assert evaluate(storage["publicNetworkAccess"], module_env(module(MAIN, "storage"), env)) == "Disabled"


def test_the_evaluator_refuses_what_it_cannot_follow() -> None:
    # It must not pass a test by guessing: an unknown construct is an error, not a value.
    with pytest.raises(ValueError):
        evaluate({"function": {"type": "concat", "parameters": {"a": "x"}}}, {})
    with pytest.raises(ValueError):
        evaluate({"operator": {"type": "conditional", "operands": {
            "condition": "notABool", "true_value": "a", "false_value": "b"}}}, {"notABool": "yes"})
