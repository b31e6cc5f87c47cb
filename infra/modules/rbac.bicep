// Role assignments for the app's user-assigned identity, each scoped to the one resource it needs,
// each the narrowest role that covers what the code calls (infra/README.md, "Roles of the app
// identity", gives the table with the reasons). Built-in role definition ids are the same in every tenant.

@description('Principal (object) id of the app identity.')
param principalId string

@description('Storage account the host and the sync store use.')
param storageAccountName string

@description('Key Vault holding the per-connection secrets.')
param keyVaultName string

@description('Application Insights component the app sends telemetry to.')
param appInsightsName string

@description('Deployment token; keeps the custom role\'s name unique in the tenant (role names are tenant-wide).')
param resourceToken string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Storage Blob Data Owner: host leases, timer checkpoints, the host's keys and the deployment package
// (Functions' documented minimum for AzureWebJobsStorage). Account scope: the host creates its own
// containers (azure-webjobs-hosts, azure-webjobs-secrets) at start-up.
resource blobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Table Data Contributor: the sync store (connections, links, cursors, runs, errors, audit).
// Account scope: the app creates its tables (with their prefix) on first use.
resource tableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Queue Data Contributor: the pass queue (trigger, enqueue) and its poison queue. Account
// scope: the scheduler creates the queue if missing and the host creates the poison queue.
resource queueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault Secrets User (getSecret, readMetadata): every pass reads the connection's secrets.
resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, '4633458b-17de-408a-b874-0445c86b69e6')
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Writing secrets, and nothing else: connect sets a connection's secrets (set also writes the new
// version when a key is rotated) and disconnect deletes the ActiveCampaign key. Narrower than the
// built-in Key Vault Secrets Officer (secrets/*), which adds backup, restore, recover, purge and
// attribute updates the app never calls. Vault scope: the secrets are named per connection when
// a connection is made, so no secret-scoped assignment can exist for them beforehand.
resource secretWriterRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'ac-dynamics-sync-secret-writer')
  properties: {
    roleName: 'AC Dynamics Sync secret writer (${resourceToken})'
    description: 'Set and delete Key Vault secrets; cannot read, back up, restore, recover or purge them. Assigned to the sync app identity on its own vault.'
    type: 'customRole'
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.KeyVault/vaults/secrets/setSecret/action'
          'Microsoft.KeyVault/vaults/secrets/delete'
          // Soft delete keeps a disconnected connection's secret for the retention period; a reconnect
          // (same derived name) recovers it before writing the new value.
          'Microsoft.KeyVault/vaults/secrets/recover/action'
        ]
        notDataActions: []
      }
    ]
    assignableScopes: [
      resourceGroup().id
    ]
  }
}

// Referenced in the subscription-level form role assignments expect (role definitions live at the
// subscription whatever scope they were declared in); the reference orders the two.
resource secretWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, secretWriterRole.name)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretWriterRole.name)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Monitoring Metrics Publisher: Entra-authenticated ingestion into Application Insights (local auth is off).
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, '3913510d-42f4-4e42-8a64-420c390055eb')
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '3913510d-42f4-4e42-8a64-420c390055eb')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
