// One private endpoint for one Private Link sub-resource (storage blob, queue or table, or the Key
// Vault), its private DNS zone linked to the VNet, and the zone group that writes the endpoint's A
// record into the zone, so the service's usual host name resolves to the private address in the VNet.

@description('Name of the private endpoint.')
param name string

@description('Azure region of the endpoint (the VNet\'s).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Resource id of the storage account or Key Vault the endpoint connects to.')
param targetResourceId string

@description('Private Link sub-resource.')
@allowed([
  'blob'
  'queue'
  'table'
  'vault'
])
param groupId string

@description('Private DNS zone of that sub-resource, e.g. privatelink.blob.core.windows.net.')
param dnsZoneName string

@description('Subnet the endpoint\'s network interface is placed in.')
param subnetId string

@description('VNet whose resolver uses the zone.')
param vnetId string

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: dnsZoneName
  location: 'global'
  tags: tags
}

resource vnetLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: zone
  name: '${name}-link'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnetId
    }
  }
}

resource endpoint 'Microsoft.Network/privateEndpoints@2023-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetResourceId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource zoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2023-11-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: zone.id
        }
      }
    ]
  }
}

output id string = endpoint.id
output zoneId string = zone.id
