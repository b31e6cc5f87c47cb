// Storage for the Functions host (blob leases, timer checkpoints), the sync store (tables), the
// pass queue and the Flex deployment package. Keys are disabled: every caller uses Entra ID. With
// privateNetworkOnly (main.bicep's vnetEnabled) the public endpoint is closed and the app reaches the
// account through its private endpoints (network.bicep).

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Replication. ZRS where the region offers it; LRS otherwise.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string = 'Standard_ZRS'

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Queue the timers and "sync now" write pass requests to (the worker reads it).')
param passQueueName string = 'sync-passes'

@description('Reachable only through private endpoints (public network access disabled). false: the public endpoint is open, still Entra-only.')
param privateNetworkOnly bool = true

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    // checkov:skip=CKV_AZURE_35: defaultAction is Deny by default (privateNetworkOnly, from vnetEnabled=true); checkov cannot resolve the parameter. Allow only when a quick trial sets vnetEnabled=false: a Flex app without VNet integration has no fixed outbound address and is not a trusted service. Shared keys are off either way.
    // checkov:skip=CKV_AZURE_206: replication is the skuName parameter (default Standard_ZRS), which checkov cannot resolve; LRS stays allowed for regions without ZRS.
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: privateNetworkOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: privateNetworkOnly ? 'Deny' : 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
        }
        file: {
          enabled: true
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource passQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: passQueueName
}

// The host creates the poison queue on first use; declaring it lets operators and alerts see it from day one.
resource poisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: '${passQueueName}-poison'
}

// Tables are created by the app (with its prefix) on first use; the service is declared so it exists.
resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
output passQueueName string = passQueue.name
output poisonQueueName string = poisonQueue.name
