// ActiveCampaign <-> Dynamics 365 sync: everything the product needs in one resource group.
// Identity-based end to end: no storage keys, no connection strings with keys, no client secrets.
// Deploy with `azd up` or `az deployment group create` (infra/README.md).

targetScope = 'resourceGroup'

@description('Environment name (azd environment); part of every resource name.')
@minLength(1)
@maxLength(40)
param environmentName string

@description('Azure region; defaults to the resource group\'s.')
param location string = resourceGroup().location

@description('Entra tenant that issues the API\'s bearer tokens (the API app registration\'s tenant).')
param authTenantId string = subscription().tenantId

@description('Audience of the API app registration: its application id URI (api://...) or client id.')
@minLength(1)
param authAudience string

@description('Other tenants whose tokens the API accepts, comma-separated (empty: only authTenantId).')
param authAllowedTenants string = ''

@description('Delegated scope every user token must carry (the scope the API app registration exposes).')
@minLength(1)
param authScope string = 'access_as_user'

@description('App role every app-only token must carry (defined on the API app registration, granted per app).')
@minLength(1)
param authAppRole string = 'Sync.Access'

@description('ActiveCampaign API hosts or *.domain patterns a connection may use, comma-separated (replaces the defaults when set).')
@minLength(1)
param acAllowedHosts string = '*.api-us1.com,*.activehosted.com'

@description('Prefix for the sync tables in the storage account.')
param tablePrefix string = ''

@description('E-mail address that receives every alert (required: an alert nobody receives is not an alert). With azd: SYNC_ALERT_EMAIL, prompted for when unset.')
@minLength(3)
@maxLength(254)
param alertEmail string

@description('Errors per hour at which the rising-error alert may fire.')
@minValue(1)
param errorAlertThreshold int = 20

@description('Key Vault secret reads (SecretGet) by one caller within an hour that raise the unusual-secret-reads alert.')
@minValue(1)
param secretReadAlertThreshold int = 300

@description('Private networking: a VNet with the app\'s outbound integration and private endpoints for storage (blob, queue, table) and Key Vault, whose public network access is then disabled. false: no VNet, storage and Key Vault reachable over their public endpoints (Entra-only); for a quick trial.')
param vnetEnabled bool = true

@description('Storage replication (ZRS where the region offers it).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSkuName string = 'Standard_ZRS'

@description('Memory per function app instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Maximum function app instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Zone-redundant Flex Consumption plan (only where the region supports it).')
param zoneRedundant bool = false

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
  product: 'ac-dynamics-sync'
}
var passQueueName = 'sync-passes'
var deploymentContainerName = 'app-package-${resourceToken}'

module identity './modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring './modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: 'log-${resourceToken}'
    appInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage './modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    skuName: storageSkuName
    deploymentContainerName: deploymentContainerName
    passQueueName: passQueueName
    privateNetworkOnly: vnetEnabled
  }
}

module keyVault './modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    privateNetworkOnly: vnetEnabled
  }
}

// Only with vnetEnabled: the VNet, the app's integration subnet and the four private endpoints.
module network './modules/network.bicep' = if (vnetEnabled) {
  name: 'network'
  params: {
    vnetName: 'vnet-${resourceToken}'
    location: location
    tags: tags
    storageAccountId: storage.outputs.id
    keyVaultId: keyVault.outputs.id
  }
}

module rbac './modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    resourceToken: resourceToken
  }
}

module functionApp './modules/function.bicep' = {
  name: 'function'
  // The host needs its storage roles, and with vnetEnabled the private endpoints and their DNS
  // records, before it starts.
  dependsOn: [
    rbac
    network
  ]
  params: {
    planName: 'plan-${resourceToken}'
    appName: 'func-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    tablePrefix: tablePrefix
    keyVaultUri: keyVault.outputs.uri
    appInsightsConnectionString: monitoring.outputs.connectionString
    authTenantId: authTenantId
    authAudience: authAudience
    authAllowedTenants: authAllowedTenants
    authScope: authScope
    authAppRole: authAppRole
    acAllowedHosts: acAllowedHosts
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    zoneRedundant: zoneRedundant
    virtualNetworkSubnetId: vnetEnabled ? network.outputs.appSubnetId : ''
  }
}

module alerts './modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    namePrefix: 'alert-${resourceToken}'
    location: location
    tags: tags
    appInsightsId: monitoring.outputs.appInsightsId
    poisonQueueName: storage.outputs.poisonQueueName
    alertEmail: alertEmail
    errorThreshold: errorAlertThreshold
  }
}

module audit './modules/audit.bicep' = {
  name: 'audit'
  params: {
    namePrefix: 'alert-${resourceToken}'
    location: location
    tags: tags
    workspaceId: monitoring.outputs.workspaceId
    keyVaultName: keyVault.outputs.name
    storageAccountName: storage.outputs.name
    functionAppName: functionApp.outputs.name
    actionGroupId: alerts.outputs.actionGroupId
    secretReadThreshold: secretReadAlertThreshold
  }
}

@description('Base URL of the HTTP API (admin config, status, sales actions).')
output API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
output AZURE_FUNCTION_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URI string = keyVault.outputs.uri
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
