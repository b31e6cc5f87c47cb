// The audit trail of data access, and the alert on it: diagnostic settings that send Key Vault's
// AuditEvent log (every secret read and write, with the caller), the storage services' read/write/
// delete logs and the function app's FunctionAppLogs to the Log Analytics workspace, and a log alert
// on unusual secret reads (infra/README.md, "Who read a secret").

@description('Name prefix for the alert rule.')
param namePrefix string

@description('Azure region (the workspace\'s).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Log Analytics workspace that receives the logs and that the alert queries.')
param workspaceId string

@description('Key Vault holding the per-connection secrets.')
param keyVaultName string

@description('Storage account (host storage, sync store, pass queue).')
param storageAccountName string

@description('The function app.')
param functionAppName string

@description('Action group every alert notifies (alerts.bicep).')
param actionGroupId string

@description('SecretGet calls by one caller within an hour that raise the alert.')
@minValue(1)
param secretReadThreshold int = 300

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

// Resource-specific table AZKVAuditLogs (Dedicated) rather than the shared AzureDiagnostics table.
resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-workspace'
  scope: vault
  properties: {
    workspaceId: workspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}

// Storage logs land in StorageBlobLogs / StorageQueueLogs / StorageTableLogs.
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-workspace'
  scope: blobService
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'StorageRead'
        enabled: true
      }
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
  }
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-workspace'
  scope: queueService
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'StorageRead'
        enabled: true
      }
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-workspace'
  scope: tableService
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'StorageRead'
        enabled: true
      }
      {
        category: 'StorageWrite'
        enabled: true
      }
      {
        category: 'StorageDelete'
        enabled: true
      }
    ]
  }
}

// FunctionAppLogs only: the HTTP access log categories would record request paths, and the planned
// ActiveCampaign webhook route carries its token in the path (issue 18).
resource siteDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-workspace'
  scope: site
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
  }
}

// SecretGet calls on this vault, one row each, with the caller (object id, else app id, else the
// address). The union covers both tables the AuditEvent log can land in; isfuzzy lets a leg whose
// table or columns do not exist yet (before the first audited call) drop out instead of failing.
var secretReadQuery = '''
union isfuzzy=true
  (AZKVAuditLogs
    | where _ResourceId =~ "{vaultId}" and OperationName == "SecretGet"
    | project TimeGenerated, caller = coalesce(tostring(Identity.claim.oid), tostring(Identity.claim.appid), CallerIpAddress)),
  (AzureDiagnostics
    | where _ResourceId =~ "{vaultId}" and OperationName == "SecretGet"
    | project TimeGenerated, caller = coalesce(tostring(identity_claim_oid_g), tostring(identity_claim_appid_g), CallerIPAddress))
'''

resource secretReadAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-unusual-secret-reads'
  location: location
  tags: tags
  properties: {
    displayName: 'Sync: unusual Key Vault secret reads'
    description: 'One caller read secrets from the sync\'s Key Vault more often in an hour than the threshold. See infra/README.md, "Who read a secret".'
    severity: 2
    enabled: true
    scopes: [
      workspaceId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: replace(secretReadQuery, '{vaultId}', vault.id)
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: secretReadThreshold
          dimensions: [
            {
              name: 'caller'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroupId
      ]
    }
  }
}

output secretReadAlertId string = secretReadAlert.id
