// Key Vault for the per-connection secrets (ActiveCampaign API keys, Dynamics credentials). RBAC mode
// (no access policies): the app's identity reads with Key Vault Secrets User and writes with a custom
// role holding only set and delete (rbac.bicep). With privateNetworkOnly the vault is reached through
// its private endpoint only (network.bicep); every data-plane call is logged (audit.bicep).

@description('Key Vault name (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Entra tenant that owns the vault.')
param tenantId string = subscription().tenantId

@description('Reachable only through its private endpoint (public network access disabled). false: the public endpoint is open, still Entra + RBAC only.')
param privateNetworkOnly bool = true

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    // checkov:skip=CKV_AZURE_109: the firewall's defaultAction is Deny by default (privateNetworkOnly, from vnetEnabled=true); checkov cannot resolve the parameter. Allow only when a quick trial sets vnetEnabled=false: a Flex app without VNet integration has no fixed outbound address to allow. Access is Entra + RBAC either way.
    tenantId: tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: privateNetworkOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: privateNetworkOnly ? 'Deny' : 'Allow'
    }
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
