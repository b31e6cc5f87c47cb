"""Structure of infra/: what the issue asks the Bicep to deploy, asserted on pycep's parse tree."""

from __future__ import annotations

import json
import re

import pytest

from tests.infra.bicep import (
    INFRA,
    MAIN,
    ROOT,
    Module,
    app_settings,
    bicep_files,
    expr,
    module_params,
    modules,
    one,
    parse,
    resources,
    strip_comments,
)


def required_parameters(declared: dict[str, dict[str, object]]) -> set[str]:
    # pycep gives every parameter a "default" key; a parameter without one has None there.
    return {n for n, p in declared.items() if p.get("default") is None}


def test_modules_are_local_files_and_all_used() -> None:
    for path in bicep_files():
        for symbol, mod in parse(path).get("modules", {}).items():
            assert mod["type"] == "local", f"{path.name}: module {symbol} is not a local file (scanners skip those)"
    used = {m.target.relative_to(INFRA).as_posix() for m in modules()}
    on_disk = {p.relative_to(INFRA).as_posix() for p in (INFRA / "modules").glob("*.bicep")}
    assert used == on_disk


def test_required_parameters_are_found() -> None:
    # Guards the check below against finding no required parameter (it once could not).
    assert {"environmentName", "authAudience", "alertEmail"} <= required_parameters(parse(MAIN)["parameters"])


@pytest.mark.parametrize("mod", list(modules()), ids=lambda m: f"{m.file.name}:{m.symbol}")
def test_module_arguments_match_module_parameters(mod: Module) -> None:
    declared = parse(mod.target)["parameters"]
    passed = set(mod.params)
    assert passed <= set(declared), f"unknown parameters {passed - set(declared)}"
    required = required_parameters(declared)
    assert required <= passed, f"missing required parameters {required - passed}"


def test_flex_consumption_plan() -> None:
    plan = one("Microsoft.Web/serverfarms").body
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    assert plan["properties"]["reserved"] is True


def test_linux_python_311_function_app_with_user_assigned_identity() -> None:
    site = one("Microsoft.Web/sites").body
    assert site["kind"] == "functionapp,linux"
    assert site["identity"]["type"] == "UserAssigned"
    props = site["properties"]
    assert props["httpsOnly"] is True
    cfg = props["functionAppConfig"]
    assert cfg["runtime"] == {"name": "python", "version": "3.11"}
    deployment = cfg["deployment"]["storage"]
    assert deployment["type"] == "blobContainer"
    assert deployment["authentication"]["type"] == "UserAssignedIdentity"
    assert props["siteConfig"]["minTlsVersion"] == "1.2"
    assert props["siteConfig"]["scmMinTlsVersion"] == "1.2"
    assert props["siteConfig"]["http20Enabled"] is True
    assert props["siteConfig"]["ftpsState"] == "Disabled"
    # Inbound stays public (browsers in Dynamics call the API), HTTPS only.
    assert props["publicNetworkAccess"] == "Enabled"
    assert props["clientCertEnabled"] is False
    assert "cors" not in props["siteConfig"], "CORS is decided by the app per connection, not the platform"
    # Settings Flex Consumption replaced with functionAppConfig.
    assert "linuxFxVersion" not in props["siteConfig"]
    for deprecated in ("FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE",
                       "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "WEBSITE_CONTENTSHARE"):
        assert deprecated not in app_settings()


def test_storage_account_is_keyless_and_locked_down() -> None:
    props = one("Microsoft.Storage/storageAccounts").body["properties"]
    assert props["allowSharedKeyAccess"] is False
    assert props["allowBlobPublicAccess"] is False
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props["supportsHttpsTrafficOnly"] is True
    assert props["defaultToOAuthAuthentication"] is True


def test_storage_has_tables_queues_and_deployment_container() -> None:
    assert one("Microsoft.Storage/storageAccounts/tableServices")
    container = one("Microsoft.Storage/storageAccounts/blobServices/containers").body
    assert container["properties"]["publicAccess"] == "None"
    queues = {r.symbol: r.body for r in resources("Microsoft.Storage/storageAccounts/queueServices/queues")}
    assert expr(queues["poisonQueue"]["name"]) == "${passQueueName}-poison"
    assert parse(MAIN)["variables"]["passQueueName"]["value"] == "sync-passes"
    assert module_params("storage")["passQueueName"] == "passQueueName"


def test_identity_based_host_storage_settings() -> None:
    s = app_settings()
    assert s["AzureWebJobsStorage__accountName"] == "storageAccountName"
    assert s["AzureWebJobsStorage__credential"] == "managedidentity"
    assert s["AzureWebJobsStorage__clientId"] == "identityClientId"
    assert "AzureWebJobsStorage" not in s, "a plain AzureWebJobsStorage would be a key-based connection string"
    assert s["AZURE_CLIENT_ID"] == "identityClientId"
    assert s["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "ClientId=${identityClientId};Authorization=AAD"


def test_app_settings_are_wired_to_the_right_outputs() -> None:
    s = app_settings()
    assert s["SYNC_STORAGE_ACCOUNT_URL"] == "tableEndpoint"
    assert s["SYNC_QUEUE_ACCOUNT_URL"] == "queueEndpoint"
    assert s["SYNC_KEY_VAULT_URI"] == "keyVaultUri"
    assert s["SYNC_AUTH_TENANT_ID"] == "authTenantId"
    assert s["SYNC_AUTH_AUDIENCE"] == "authAudience"
    assert s["SYNC_AUTH_ALLOWED_TENANTS"] == "authAllowedTenants"
    assert s["APPLICATIONINSIGHTS_CONNECTION_STRING"] == "appInsightsConnectionString"
    p = module_params("functionApp")
    assert p["identityClientId"] == "identity.outputs.clientId"
    assert p["identityId"] == "identity.outputs.id"
    assert p["storageAccountName"] == "storage.outputs.name"
    assert p["tableEndpoint"] == "storage.outputs.tableEndpoint"
    assert p["queueEndpoint"] == "storage.outputs.queueEndpoint"
    assert p["blobEndpoint"] == "storage.outputs.blobEndpoint"
    assert p["keyVaultUri"] == "keyVault.outputs.uri"
    assert p["appInsightsConnectionString"] == "monitoring.outputs.connectionString"
    storage_outputs = {k: expr(v["value"]) for k, v in parse(INFRA / "modules/storage.bicep")["outputs"].items()}
    assert storage_outputs["tableEndpoint"] == "storage.properties.primaryEndpoints.table"
    assert storage_outputs["queueEndpoint"] == "storage.properties.primaryEndpoints.queue"
    assert expr(parse(INFRA / "modules/keyvault.bicep")["outputs"]["uri"]["value"]) == "vault.properties.vaultUri"
    assert "rbac" in parse(MAIN)["modules"]["functionApp"]["config"]["dependsOn"], "roles before the host starts"


def test_key_vault_rbac_soft_delete_purge_protection() -> None:
    props = one("Microsoft.KeyVault/vaults").body["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True
    assert props["enablePurgeProtection"] is True
    assert "accessPolicies" not in props


def test_application_insights_on_workspace_with_local_auth_off() -> None:
    assert one("Microsoft.OperationalInsights/workspaces")
    props = one("Microsoft.Insights/components").body["properties"]
    assert props["DisableLocalAuth"] is True
    assert expr(props["WorkspaceResourceId"]) == "workspace.id"


def test_alert_rules_cover_the_four_conditions() -> None:
    alerts = INFRA / "modules/alerts.bicep"
    rules = {r.symbol: r.body for r in resources("Microsoft.Insights/scheduledQueryRules", alerts)}
    assert set(rules) == {"poisonAlert", "staleAlert", "errorAlert", "credentialsAlert"}
    for body in rules.values():
        props = body["properties"]
        assert props["enabled"] is True
        assert props["scopes"] == ["appInsightsId"]
        (criterion,) = props["criteria"]["allOf"]
        assert criterion["operator"] == "GreaterThan"
    assert module_params("alerts")["appInsightsId"] == "monitoring.outputs.appInsightsId"
    assert module_params("alerts")["poisonQueueName"] == "storage.outputs.poisonQueueName"


def test_outputs_the_api_base_url() -> None:
    assert parse(MAIN)["outputs"]["API_BASE_URL"]["value"] == "https://${functionApp.outputs.defaultHostName}/api"


def test_no_keys_connection_strings_or_client_secrets() -> None:
    forbidden = re.compile(r"listKeys|listConnectionStrings|listAccountSas|listServiceSas|AccountKey|"
                           r"SharedAccessKey|primaryKey|secondaryKey|clientSecret|client_secret|"
                           r"DefaultEndpointsProtocol|UseDevelopmentStorage", re.IGNORECASE)
    for path in [*INFRA.rglob("*.bicep"), INFRA / "main.parameters.json", ROOT / "azure.yaml"]:
        code = strip_comments(path.read_text(encoding="utf-8"))
        assert not forbidden.search(code), f"{path.name}: {forbidden.search(code)}"
    # The only "connection string" setting is Application Insights', which has no key material
    # when local auth is off (it names the ingestion endpoint and instrumentation key).
    conn = [n for n in app_settings() if "connection" in n.lower()]
    assert conn == ["APPLICATIONINSIGHTS_CONNECTION_STRING"]


def test_parameters_file_matches_main() -> None:
    params = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    declared = parse(MAIN)["parameters"]
    assert set(params) <= set(declared)
    assert required_parameters(declared) <= set(params)


def test_azure_yaml_deploys_infra_and_the_function_app() -> None:
    text = (ROOT / "azure.yaml").read_text()
    assert re.search(r"(?m)^infra:\n(?:  .*\n)*?  path: infra$", text)
    assert re.search(r"(?m)^  api:\n    project: \.\n    language: python\n    host: function$", text)
    site = one("Microsoft.Web/sites").body
    added = site["tags"]["function"]["parameters"]["arg_2"]
    assert {k.strip("'"): v for k, v in added.items()} == {"azd-service-name": "api"}
