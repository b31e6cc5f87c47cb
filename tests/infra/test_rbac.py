"""Least privilege for the app identity (issue 14): each role assignment's role, scope and principal; the
custom secret-writer role holds only what connect and disconnect call; infra/README.md documents each."""

from __future__ import annotations

import re

from tests.infra.bicep import INFRA, expr, module_params, resource, resources

RBAC = INFRA / "modules/rbac.bicep"

# Built-in role definition ids (identical in every tenant), checked against Microsoft's built-in role
# reference (articles/role-based-access-control/built-in-roles/{storage,security,monitor}.md).
BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
KV_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
WRITER = "secretWriterRole"

ROLE_REF = re.compile(r"subscription_resource_id\(Microsoft\.Authorization/roleDefinitions, "
                      r"([0-9a-f-]{36}|\w+\.name)\)")

EXPECTED = {
    # role -> type of the resource the assignment is scoped to
    BLOB_DATA_OWNER: "Microsoft.Storage/storageAccounts",
    TABLE_DATA_CONTRIBUTOR: "Microsoft.Storage/storageAccounts",
    QUEUE_DATA_CONTRIBUTOR: "Microsoft.Storage/storageAccounts",
    KV_SECRETS_USER: "Microsoft.KeyVault/vaults",
    WRITER: "Microsoft.KeyVault/vaults",
    METRICS_PUBLISHER: "Microsoft.Insights/components",
}


def _assignments() -> dict[str, tuple[str, str]]:
    """role (built-in id or the custom role's symbol) -> (scope resource type, scope symbol)."""
    out: dict[str, tuple[str, str]] = {}
    for ra in resources("Microsoft.Authorization/roleAssignments"):
        assert ra.file == RBAC, f"role assignment outside rbac.bicep: {ra.file.name}:{ra.symbol}"
        props = ra.body["properties"]
        m = ROLE_REF.fullmatch(expr(props["roleDefinitionId"]))
        assert m, expr(props["roleDefinitionId"])
        role = m.group(1).removesuffix(".name")
        assert role not in out, f"role {role} assigned twice"
        assert props["principalType"] == "ServicePrincipal"
        assert props["principalId"] == "principalId"
        assert not ra.conditional
        scope = ra.body["scope"]
        assert expr(ra.body["name"]) == f"guid({scope}.id, principalId, {m.group(1)})"
        target = resource(RBAC, scope)
        assert target.existing
        out[role] = (target.type, scope)
    return out


def test_role_assignments_are_the_six_roles_scoped_to_their_resources() -> None:
    assert {role: scope_type for role, (scope_type, _) in _assignments().items()} == EXPECTED
    assert module_params("rbac")["principalId"] == "identity.outputs.principalId"


def test_scopes_name_the_deployments_own_resources() -> None:
    names = {symbol: resource(RBAC, symbol).body["name"] for _, symbol in _assignments().values()}
    assert names == {"storage": "storageAccountName", "vault": "keyVaultName", "appInsights": "appInsightsName"}
    p = module_params("rbac")
    assert p["storageAccountName"] == "storage.outputs.name"
    assert p["keyVaultName"] == "keyVault.outputs.name"
    assert p["appInsightsName"] == "monitoring.outputs.appInsightsName"


def test_no_broad_roles() -> None:
    # Not Secrets Officer (secrets/* on the vault), Key Vault Administrator, Owner, Contributor, User
    # Access / RBAC Administrator or Storage Account Contributor.
    broad = {KV_SECRETS_OFFICER, "00482a5a-887f-4fb3-b363-3b7fe8e74483", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
             "b24988ac-6180-42a0-ab88-20f7382dd24c", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
             "f58310d9-a9f6-439a-9e8d-f62e7b41a168", "17d1049b-9a84-46fb-8f53-869881c3d3ab"}
    assert not broad & set(_assignments())
    text = RBAC.read_text()
    assert not [role for role in broad if role in text]


def test_secret_writer_role_sets_deletes_and_recovers_only() -> None:
    role = resource(RBAC, WRITER)
    assert role.type == "Microsoft.Authorization/roleDefinitions" and not role.existing and not role.conditional
    props = role.body["properties"]
    assert props["type"] == "customRole"
    (permission,) = props["permissions"]
    assert permission["actions"] == [] and permission["notActions"] == []
    assert sorted(permission["dataActions"]) == ["Microsoft.KeyVault/vaults/secrets/delete",
                                                 "Microsoft.KeyVault/vaults/secrets/recover/action",
                                                 "Microsoft.KeyVault/vaults/secrets/setSecret/action"]
    assert [expr(s) for s in props["assignableScopes"]] == ["resource_group().id"]
    # Role names are unique per tenant: two deployments in one tenant need two names.
    assert "${resourceToken}" in props["roleName"]
    assert module_params("rbac")["resourceToken"] == "resourceToken"


def test_readme_documents_every_assignment() -> None:
    readme = (INFRA / "README.md").read_text()
    table = readme[readme.index("### Roles of the app identity"):]
    table = table[:table.index("\n\n", table.index("| principal"))]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == len(EXPECTED)
    for role in EXPECTED:
        ident = "custom" if role == WRITER else role
        assert sum(ident in row for row in rows) == 1, f"README role table: {role}"
    for data_action in ("setSecret/action", "secrets/delete", "secrets/recover/action"):
        assert data_action in table
