"""What records data access and who hears about it (issue 14): diagnostic settings to the workspace,
the unusual-secret-reads alert, the required action group on every alert rule, and publishing without
basic (user/password) credentials."""

from __future__ import annotations

import json
import re

import pytest

from tests.infra.bicep import INFRA, MAIN, Resource, expr, module, one, parse, resource, resources, string_variables

AUDIT = INFRA / "modules/audit.bicep"
ALERTS = INFRA / "modules/alerts.bicep"
FUNCTION = INFRA / "modules/function.bicep"
STORAGE_LOGS = {"StorageRead", "StorageWrite", "StorageDelete"}
ALERT_RULE_TYPES = ("Microsoft.Insights/scheduledQueryRules", "Microsoft.Insights/metricAlerts",
                    "Microsoft.Insights/activityLogAlerts")


def _diagnostics() -> dict[str, Resource]:
    found = {r.symbol: r for r in resources("Microsoft.Insights/diagnosticSettings")}
    assert found and {r.file for r in found.values()} == {AUDIT}
    return found


def _scope(diag: Resource) -> Resource:
    return resource(diag.file, diag.body["scope"])


@pytest.mark.parametrize(("symbol", "scope_type", "scope_name", "categories"), [
    ("vaultDiagnostics", "Microsoft.KeyVault/vaults", "keyVaultName", {"AuditEvent"}),
    ("blobDiagnostics", "Microsoft.Storage/storageAccounts/blobServices", "default", STORAGE_LOGS),
    ("queueDiagnostics", "Microsoft.Storage/storageAccounts/queueServices", "default", STORAGE_LOGS),
    ("tableDiagnostics", "Microsoft.Storage/storageAccounts/tableServices", "default", STORAGE_LOGS),
    ("siteDiagnostics", "Microsoft.Web/sites", "functionAppName", {"FunctionAppLogs"}),
])
def test_diagnostic_setting_sends_its_categories_to_the_workspace(symbol: str, scope_type: str, scope_name: str,
                                                                  categories: set[str]) -> None:
    diag = _diagnostics()[symbol]
    assert not diag.conditional
    scope = _scope(diag)
    assert scope.existing and scope.type == scope_type and scope.body["name"] == scope_name
    if scope_type.startswith("Microsoft.Storage/storageAccounts/"):
        parent = resource(AUDIT, scope.body["parent"])
        assert parent.type == "Microsoft.Storage/storageAccounts" and parent.body["name"] == "storageAccountName"
    props = diag.body["properties"]
    assert props["workspaceId"] == "workspaceId"
    logs = props["logs"]
    assert {entry["category"] for entry in logs} == categories
    assert all(entry["enabled"] is True for entry in logs)


def test_exactly_the_five_diagnostic_settings() -> None:
    assert set(_diagnostics()) == {"vaultDiagnostics", "blobDiagnostics", "queueDiagnostics", "tableDiagnostics",
                                   "siteDiagnostics"}


def test_vault_audit_goes_to_the_resource_specific_table() -> None:
    # AZKVAuditLogs, the table the README's query and the alert read first.
    assert _diagnostics()["vaultDiagnostics"].body["properties"]["logAnalyticsDestinationType"] == "Dedicated"


def test_no_http_access_logs_of_the_app() -> None:
    # Request paths will carry the ActiveCampaign webhook token (issue 18): no AppServiceHTTPLogs.
    categories = {e["category"] for e in _diagnostics()["siteDiagnostics"].body["properties"]["logs"]}
    assert categories == {"FunctionAppLogs"}


def test_audit_module_gets_the_workspace_and_the_right_resources() -> None:
    p = {k: expr(v) for k, v in module(MAIN, "audit").params.items()}
    assert p["workspaceId"] == "monitoring.outputs.workspaceId"
    assert p["keyVaultName"] == "keyVault.outputs.name"
    assert p["storageAccountName"] == "storage.outputs.name"
    assert p["functionAppName"] == "functionApp.outputs.name"
    assert p["actionGroupId"] == "alerts.outputs.actionGroupId"
    assert p["secretReadThreshold"] == "secretReadAlertThreshold"
    outputs = parse(INFRA / "modules/monitoring.bicep")["outputs"]
    assert expr(outputs["workspaceId"]["value"]) == "workspace.id"
    assert module(MAIN, "audit").condition is None


def test_secret_read_alert_counts_secret_gets_per_caller_over_an_hour() -> None:
    rule = resource(AUDIT, "secretReadAlert")
    assert rule.type == "Microsoft.Insights/scheduledQueryRules" and not rule.conditional
    props = rule.body["properties"]
    assert props["enabled"] is True
    assert props["scopes"] == ["workspaceId"]
    assert props["windowSize"] == "PT1H"
    (criterion,) = props["criteria"]["allOf"]
    assert criterion["timeAggregation"] == "Count"
    assert criterion["operator"] == "GreaterThan"
    assert criterion["threshold"] == "secretReadThreshold"
    assert [d["name"] for d in criterion["dimensions"]] == ["caller"]
    assert expr(criterion["query"]) == "replace(secretReadQuery, {vaultId}, vault.id)"
    threshold = parse(MAIN)["parameters"]["secretReadAlertThreshold"]
    assert threshold["type"] == "int" and isinstance(threshold["default"], int) and threshold["default"] >= 1


def test_secret_read_query_reads_both_audit_tables_for_this_vault() -> None:
    kql = string_variables(AUDIT)["secretReadQuery"]
    assert kql.lstrip().startswith("union isfuzzy=true")
    legs = re.split(r"\n  \(", kql)[1:]
    assert [leg.split("\n", 1)[0].strip() for leg in legs] == ["AZKVAuditLogs", "AzureDiagnostics"]
    for leg in legs:
        assert '_ResourceId =~ "{vaultId}"' in leg
        assert 'OperationName == "SecretGet"' in leg
        assert re.search(r"project TimeGenerated, caller = coalesce\(", leg)


def test_action_group_is_required_and_mails_the_operator() -> None:
    group = one("Microsoft.Insights/actionGroups")
    assert not group.conditional, "the action group may not depend on an optional e-mail"
    (receiver,) = group.body["properties"]["emailReceivers"]
    assert receiver["emailAddress"] == "alertEmail"
    for path in (MAIN, ALERTS):
        param = parse(path)["parameters"]["alertEmail"]
        assert param["default"] is None, f"{path.name}: alertEmail must have no default"
        assert {"type": "min_length", "argument": 3} in param["decorators"]
    assert expr(module(MAIN, "alerts").params["alertEmail"]) == "alertEmail"
    # azd prompts for a parameter whose variable is unset only when the placeholder has no '=default'.
    params = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert params["alertEmail"] == {"value": "${SYNC_ALERT_EMAIL}"}
    outputs = parse(ALERTS)["outputs"]
    assert expr(outputs["actionGroupId"]["value"]) == "actionGroup.id"


def test_every_alert_rule_notifies_the_action_group() -> None:
    rules = [r for t in ALERT_RULE_TYPES for r in resources(t)]
    assert len(rules) == 5
    for rule in rules:
        groups = rule.body["properties"]["actions"]["actionGroups"]
        assert isinstance(groups, list) and len(groups) == 1, f"{rule.symbol}: {groups!r}"
        (ref,) = groups
        # Inside alerts.bicep the group itself; elsewhere the id main.bicep hands over from it.
        want = "actionGroup.id" if rule.file == ALERTS else "actionGroupId"
        assert expr(ref) == want, f"{rule.symbol} notifies {expr(ref)}"


def test_basic_publishing_credentials_are_off() -> None:
    policies = {r.body["name"]: r for r in resources("Microsoft.Web/sites/basicPublishingCredentialsPolicies")}
    assert set(policies) == {"scm", "ftp"}
    for policy in policies.values():
        assert policy.file == FUNCTION
        assert policy.body["parent"] == "site"
        assert not policy.conditional
        assert policy.body["properties"] == {"allow": False}


def test_deployment_is_the_blob_container_with_the_app_identity() -> None:
    # azd's Flex path (OneDeploy): the package goes to this container, read with the app's identity.
    storage = one("Microsoft.Web/sites").body["properties"]["functionAppConfig"]["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["value"] == "${blobEndpoint}${deploymentContainerName}"
    assert storage["authentication"] == {"type": "UserAssignedIdentity", "userAssignedIdentityResourceId": "identityId"}
