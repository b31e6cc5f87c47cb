// Key Vault for the per-connection ActiveCampaign API keys. RBAC mode (no access policies); the app's
// identity is Key Vault Secrets Officer because the connect route writes the key (rbac.bicep).

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

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    // checkov:skip=CKV_AZURE_109: the Flex app has no fixed outbound IPs without VNet integration, so a vault firewall would lock it out; access is Entra + RBAC only. Private endpoint is the documented hardening step.
    // checkov:skip=CKV_AZURE_189: same reason as CKV_AZURE_109: the app reaches the vault over its public endpoint without VNet integration.
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
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
