// Private networking (deployed only with vnetEnabled): one VNet with a subnet for the function app's
// outbound VNet integration and a subnet for the private endpoints of storage (blob, queue, table)
// and Key Vault. Inbound to the app stays public (browsers in Dynamics call the API); only the app's
// own calls to storage and Key Vault go private.

@description('Name of the virtual network.')
param vnetName string

@description('Azure region (the app, storage and vault are in it too).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Resource id of the storage account (blob, queue and table endpoints).')
param storageAccountId string

@description('Resource id of the Key Vault.')
param keyVaultId string

// Flex Consumption: the integration subnet is delegated to Microsoft.App/environments, holds nothing
// else, and may not contain '_' in its name; one app uses up to about 40 addresses, so a /24 leaves room.
var appSubnetName = 'app'
var endpointSubnetName = 'private-endpoints'

// No rules of their own: the default rules (VNet traffic allowed, inbound from the internet denied)
// are what these subnets need. The groups exist because many tenants' Azure Policy refuses a subnet
// without one, and so outbound rules can be added later without touching the subnets.
resource appNsg 'Microsoft.Network/networkSecurityGroups@2023-11-01' = {
  name: '${vnetName}-${appSubnetName}-nsg'
  location: location
  tags: tags
}

resource endpointNsg 'Microsoft.Network/networkSecurityGroups@2023-11-01' = {
  name: '${vnetName}-${endpointSubnetName}-nsg'
  location: location
  tags: tags
}

resource vnet 'Microsoft.Network/virtualNetworks@2023-11-01' = {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.0.0.0/16'
      ]
    }
    subnets: [
      {
        name: appSubnetName
        properties: {
          addressPrefix: '10.0.1.0/24'
          networkSecurityGroup: {
            id: appNsg.id
          }
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: endpointSubnetName
        properties: {
          addressPrefix: '10.0.2.0/24'
          networkSecurityGroup: {
            id: endpointNsg.id
          }
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

var endpointSubnetId = '${vnet.id}/subnets/${endpointSubnetName}'

module blobEndpoint './private-endpoint.bicep' = {
  name: 'pe-blob'
  params: {
    name: 'pe-${vnetName}-blob'
    location: location
    tags: tags
    targetResourceId: storageAccountId
    groupId: 'blob'
    dnsZoneName: 'privatelink.blob.${environment().suffixes.storage}'
    subnetId: endpointSubnetId
    vnetId: vnet.id
  }
}

module queueEndpoint './private-endpoint.bicep' = {
  name: 'pe-queue'
  params: {
    name: 'pe-${vnetName}-queue'
    location: location
    tags: tags
    targetResourceId: storageAccountId
    groupId: 'queue'
    dnsZoneName: 'privatelink.queue.${environment().suffixes.storage}'
    subnetId: endpointSubnetId
    vnetId: vnet.id
  }
}

module tableEndpoint './private-endpoint.bicep' = {
  name: 'pe-table'
  params: {
    name: 'pe-${vnetName}-table'
    location: location
    tags: tags
    targetResourceId: storageAccountId
    groupId: 'table'
    dnsZoneName: 'privatelink.table.${environment().suffixes.storage}'
    subnetId: endpointSubnetId
    vnetId: vnet.id
  }
}

// privatelink.vaultcore.azure.net in the public cloud; derived from the vault DNS suffix
// (.vault.azure.net) so sovereign clouds get theirs.
module vaultEndpoint './private-endpoint.bicep' = {
  name: 'pe-vault'
  params: {
    name: 'pe-${vnetName}-vault'
    location: location
    tags: tags
    targetResourceId: keyVaultId
    groupId: 'vault'
    dnsZoneName: 'privatelink${replace(environment().suffixes.keyvaultDns, '.vault.', '.vaultcore.')}'
    subnetId: endpointSubnetId
    vnetId: vnet.id
  }
}

output vnetId string = vnet.id
output appSubnetId string = '${vnet.id}/subnets/${appSubnetName}'
