// Flex Consumption plan (FC1) and the Linux function app (Python 3.11), configured through
// functionAppConfig. Every connection is identity-based: no keys or connection strings with keys.
// Deployment is azd's (OneDeploy to the blob container below, written with the app's identity);
// basic publishing credentials (SCM and FTP user/password) are off.

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the function app (also the API host name).')
param appName string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of the user-assigned identity.')
param identityClientId string

@description('Storage account name (host storage, sync tables, pass queue).')
param storageAccountName string

@description('Blob endpoint of the storage account.')
param blobEndpoint string

@description('Queue endpoint of the storage account.')
param queueEndpoint string

@description('Table endpoint of the storage account.')
param tableEndpoint string

@description('Container holding the deployment package.')
param deploymentContainerName string

@description('Prefix for the sync tables (lets two deployments share an account; empty by default).')
param tablePrefix string

@description('Key Vault URI (ActiveCampaign API keys).')
param keyVaultUri string

@description('Application Insights connection string (ingestion endpoint and instrumentation key; not a secret with local auth off).')
param appInsightsConnectionString string

@description('Entra tenant that issues the API\'s bearer tokens.')
param authTenantId string

@description('Audience (application id URI or client id) of the API app registration.')
param authAudience string

@description('Extra tenants whose tokens are accepted (comma-separated; empty = home tenant only).')
param authAllowedTenants string

@description('Delegated scope every user token must carry.')
param authScope string

@description('App role every app-only token must carry.')
param authAppRole string

@description('ActiveCampaign API hosts or *.domain patterns a connection may use (comma-separated).')
param acAllowedHosts string

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound on instances (scale-out is across connections).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Zone-redundant plan (only in regions where Flex Consumption supports it).')
param zoneRedundant bool = false

@description('Subnet (delegated to Microsoft.App/environments) for outbound VNet integration; empty: none.')
param virtualNetworkSubnetId string = ''

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    // checkov:skip=CKV_AZURE_225: Flex Consumption zone redundancy is only offered in some regions, so it is the zoneRedundant parameter (default off) rather than forced on.
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    // checkov:skip=CKV_AZURE_222: inbound must stay public: the API is called from users' browsers inside Dynamics 365 (the product's buttons and admin pages), which sit on no network the customer controls, and ActiveCampaign automation webhooks will call it (issue 18). Every route but /api/health and the OpenAPI document needs an Entra bearer token; outbound to storage and Key Vault is private (vnetEnabled).
    // checkov:skip=CKV_AZURE_17: callers are users' browsers inside Dynamics 365, which authenticate with Entra ID bearer tokens and cannot present client certificates.
    // checkov:skip=CKV_AZURE_213: a platform health check pings every instance every minute and would keep a scale-to-zero Flex app running; /api/health is public for external probes instead.
    // checkov:skip=CKV_AZURE_16: the app is registered in Entra through its own API app registration (infra/README.md); App Service Authentication is not used because the app decides auth per route.
    // checkov:skip=CKV_AZURE_212: the product scales to zero between syncs by design; always-ready instances are optional cost the customer can add.
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // No platform CORS: the app answers CORS per connection (its Dynamics origin).
      appSettings: [
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storageAccountName
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        {
          name: 'AZURE_CLIENT_ID'
          value: identityClientId
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsightsConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
        {
          name: 'SYNC_STORAGE_ACCOUNT_URL'
          value: tableEndpoint
        }
        {
          name: 'SYNC_QUEUE_ACCOUNT_URL'
          value: queueEndpoint
        }
        {
          name: 'SYNC_TABLE_PREFIX'
          value: tablePrefix
        }
        {
          name: 'SYNC_KEY_VAULT_URI'
          value: keyVaultUri
        }
        {
          name: 'SYNC_AUTH_TENANT_ID'
          value: authTenantId
        }
        {
          name: 'SYNC_AUTH_AUDIENCE'
          value: authAudience
        }
        {
          name: 'SYNC_AUTH_ALLOWED_TENANTS'
          value: authAllowedTenants
        }
        {
          name: 'SYNC_AUTH_SCOPE'
          value: authScope
        }
        {
          name: 'SYNC_AUTH_APP_ROLE'
          value: authAppRole
        }
        {
          name: 'SYNC_AC_ALLOWED_HOSTS'
          value: acAllowedHosts
        }
      ]
    }
  }
}

// No user/password publishing: azd deploys with the signed-in user's Entra token (OneDeploy), and
// the package is read from blob storage with the app's identity.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

output name string = site.name
output id string = site.id
output defaultHostName string = site.properties.defaultHostName
