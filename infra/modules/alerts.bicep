// Log search alert rules over the app's own telemetry (sync_core/telemetry.py emits every event and
// property named below; tests/infra/test_alert_names.py keeps the two in step), and the action group
// every alert rule of the deployment notifies (these and the secret-read rule in audit.bicep).

@description('Name prefix for the alert rules.')
param namePrefix string

@description('Azure region (same as Application Insights).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Resource id of the Application Insights component the rules query.')
param appInsightsId string

@description('Poison queue of the pass queue.')
param poisonQueueName string

@description('E-mail address that receives every alert (required).')
@minLength(3)
@maxLength(254)
param alertEmail string

@description('Errors recorded in an hour that, when also more than twice the previous day\'s hourly average, raise the error alert.')
@minValue(1)
param errorThreshold int = 20

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-ag'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'acsync'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// A pass request failed five times and the host moved it to the poison queue. The app's poison
// handler emits SyncMessagePoisoned; the host's own trace line is matched too in case no handler ran.
var poisonQuery = '''
union
  (customEvents
    | where name == "SyncMessagePoisoned"
    | project timestamp, connection_id = tostring(customDimensions.connection_id)),
  (traces
    | where message has "MaxDequeueCount" and message has "{poisonQueue}"
    | project timestamp, connection_id = "")
| summarize poisoned = count() by connection_id
'''

// A connection whose last finished sync is older than twice its frequency: either it went quiet
// (no SyncConnectionSynced within 2 x frequency; visible up to 24 h frequencies within the 2-day
// query range) or the scheduler found it overdue and said so (covers daily connections and a
// connection whose passes keep failing).
var staleQuery = '''
let quiet = customEvents
  | where name == "SyncConnectionSynced"
  | summarize last_synced = max(timestamp), frequency_hours = max(todouble(customDimensions.frequency_hours)) by connection_id = tostring(customDimensions.connection_id)
  | where last_synced < now() - 2 * frequency_hours * 1h
  | project connection_id;
let overdue = customEvents
  | where timestamp > ago(1h)
  | where name == "SyncConnectionOverdue"
  | project connection_id = tostring(customDimensions.connection_id);
union quiet, overdue
| summarize stale = count() by connection_id
'''

// Errors recorded in the last hour, when at least the threshold and more than twice the hourly
// average of the 23 hours before.
var errorQuery = '''
let recent = customEvents
  | where timestamp > ago(1h)
  | where name == "SyncErrorsRecorded"
  | summarize recent_errors = sum(toint(customDimensions.error_count));
let baseline = toscalar(customEvents
  | where timestamp between (ago(1d) .. ago(1h))
  | where name == "SyncErrorsRecorded"
  | summarize sum(toint(customDimensions.error_count)) / 23.0);
recent
| extend baseline_per_hour = coalesce(baseline, 0.0)
| where recent_errors >= {threshold} and recent_errors > 2 * baseline_per_hour
'''

// ActiveCampaign answered 401/403 to the stored API key, or Entra/Dataverse refused the product's
// identity: syncing that connection cannot continue until someone fixes the credential.
var credentialsQuery = '''
customEvents
| where name == "SyncCredentialsRejected"
| summarize rejections = count() by connection_id = tostring(customDimensions.connection_id), side = tostring(customDimensions.side)
'''

resource poisonAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-poison-messages'
  location: location
  tags: tags
  properties: {
    displayName: 'Sync: pass requests in the poison queue'
    description: 'A sync pass request failed five times and was moved to the poison queue. See infra/README.md, "When a sync fails".'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: replace(poisonQuery, '{poisonQueue}', poisonQueueName)
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'connection_id'
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
        actionGroup.id
      ]
    }
  }
}

resource staleAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-connection-not-synced'
  location: location
  tags: tags
  properties: {
    displayName: 'Sync: connection not synced within twice its frequency'
    description: 'A connection has not finished a sync within twice its configured frequency.'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT1H'
    windowSize: 'PT1H'
    overrideQueryTimeRange: 'P2D'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: staleQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'connection_id'
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
        actionGroup.id
      ]
    }
  }
}

resource errorAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-rising-errors'
  location: location
  tags: tags
  properties: {
    displayName: 'Sync: rising record error count'
    description: 'Records failing to sync in the last hour are above the threshold and more than twice the recent hourly average.'
    severity: 3
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    overrideQueryTimeRange: 'P1D'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: replace(errorQuery, '{threshold}', string(errorThreshold))
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource credentialsAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-credentials-rejected'
  location: location
  tags: tags
  properties: {
    displayName: 'Sync: ActiveCampaign or Dynamics rejected the credentials'
    description: 'ActiveCampaign rejected the stored API key, or Entra ID / Dataverse rejected the product identity. See infra/README.md.'
    severity: 1
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: credentialsQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'connection_id'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'side'
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
        actionGroup.id
      ]
    }
  }
}

output actionGroupId string = actionGroup.id
