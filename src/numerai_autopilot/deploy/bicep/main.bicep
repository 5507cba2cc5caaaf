// numerai-autopilot on Azure: a Container Apps Job started by a cron schedule in Numerai's round
// window. `numerai-autopilot deploy azure` prints (or runs with --apply) the commands that use it:
// deploy once with deployJob=false (registry, vault, storage, logs), put the API key in the vault,
// upload the models, build the image, then deploy again with deployJob=true.
// Costs (docs/deploy.md): the job is billed per second while it runs (usually inside the monthly
// free grant); the registry (Basic) is the only fixed monthly cost; storage and logs are cents.

@description('Azure region; the resource group\'s by default.')
param location string = resourceGroup().location

@description('Prefix of every resource name (letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string = 'numerai-autopilot'

@description('Image to run; empty builds it into the registry this template creates (az acr build).')
param image string = ''

@description('Tag of the image built into the registry.')
param imageTag string = '0.1.0'

@description('When the job starts (UTC). Round-aware slots: every run is idempotent, see docs/deploy.md.')
param cronExpression string = '2,17,32,47 12-14 * * 2,3,4,5,6,0'

@description('Seconds one execution may run before it is stopped.')
param replicaTimeout int = 2700

@description('Retries of a failed execution (exit code 1: a model failed).')
param replicaRetryLimit int = 1

@description('vCPUs of the job\'s container (Consumption: 0.25 to 4, with memory = 2 GiB per vCPU).')
param cpu string = '1.0'

@description('Memory of the job\'s container, e.g. 2Gi.')
param memory string = '2Gi'

@description('Models predicting at once (NUMERAI_WORKERS).')
param workers int = 2

@description('False for the first pass: everything but the job, so the key and image can be put in place.')
param deployJob bool = true

@description('Object id of whoever sets the vault\'s secrets (az ad signed-in-user show --query id); empty grants nothing.')
param deployerPrincipalId string = ''

@description('Days Log Analytics keeps the job\'s logs (30 are included in the ingestion price).')
param logRetentionDays int = 30

var suffix = uniqueString(resourceGroup().id)
var buildImage = empty(image)
var registryName = 'acr${suffix}'
var jobImage = buildImage ? '${registryName}.azurecr.io/numerai-autopilot:${imageTag}' : image
// Built-in role definition ids (the same in every tenant).
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${name}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
    workspaceCapping: {
      // A run logs kilobytes; the cap only stops a runaway loop from costing money.
      dailyQuotaGb: json('0.5')
    }
  }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${name}'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${name}'
  location: location
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: a Consumption environment has no fixed outbound IP or VNet to allow, and the deployer writes the key from their own machine; access is RBAC-only through the job's identity
  // checkov:skip=CKV_AZURE_189: same reason: Container Apps without a VNet reaches the vault over its public endpoint (a private endpoint needs a VNet environment, docs/deploy.md)
  name: 'kv-${suffix}'
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    enablePurgeProtection: true
  }
}

resource vaultReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
  }
}

resource vaultWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, keyVaultSecretsOfficer)
  scope: vault
  properties: {
    principalId: deployerPrincipalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = if (buildImage) {
  // checkov:skip=CKV_AZURE_139: the Basic tier has no network rules or private endpoints; pulls are authenticated by the identity, the admin user is off
  // checkov:skip=CKV_AZURE_163: image scanning is Microsoft Defender for Containers, billed per image, more than this whole set-up; scan in CI instead
  // checkov:skip=CKV_AZURE_166: quarantine is a Premium-tier feature (about 10x the Basic price) for one private image built from this repository
  name: registryName
  location: location
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
  }
}

resource registryPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (buildImage) {
  name: guid(resourceGroup().id, registryName, identity.id, acrPull)
  scope: registry
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
  }
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: Container Apps without a VNet mounts the share over the public endpoint, and the deployer uploads the models; access needs the account key
  // checkov:skip=CKV_AZURE_206: LRS on purpose: the models are uploaded from the user's copy, the cache re-downloads, the ledger is history; geo-replication would double the price
  // checkov:skip=CKV_AZURE_43: checkov cannot evaluate the interpolated name; 'st' + uniqueString() is 15 lowercase letters and digits, within the 3-24 rule
  name: 'st${suffix}'
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // Container Apps mounts Azure Files with the account key: shared keys must stay enabled.
    allowSharedKeyAccess: true
  }
}

resource files 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    shareDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource modelsShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: files
  name: 'models'
  properties: {
    shareQuota: 5
  }
}

resource dataShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: files
  name: 'data'
  properties: {
    shareQuota: 10
  }
}

resource modelsStorage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: environment
  name: 'models'
  properties: {
    azureFile: {
      accountName: storage.name
      accountKey: storage.listKeys().keys[0].value
      shareName: modelsShare.name
      accessMode: 'ReadOnly'
    }
  }
}

resource dataStorage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: environment
  name: 'data'
  properties: {
    azureFile: {
      accountName: storage.name
      accountKey: storage.listKeys().keys[0].value
      shareName: dataShare.name
      accessMode: 'ReadWrite'
    }
  }
}

resource job 'Microsoft.App/jobs@2024-03-01' = if (deployJob) {
  name: 'caj-${name}'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    environmentId: environment.id
    configuration: {
      triggerType: 'Schedule'
      replicaTimeout: replicaTimeout
      replicaRetryLimit: replicaRetryLimit
      scheduleTriggerConfig: {
        cronExpression: cronExpression
        parallelism: 1
        replicaCompletionCount: 1
      }
      // Key Vault references: the job reads the key through its identity; no value in ARM.
      secrets: [
        {
          name: 'numerai-public-id'
          keyVaultUrl: '${vault.properties.vaultUri}secrets/numerai-public-id'
          identity: identity.id
        }
        {
          name: 'numerai-secret-key'
          keyVaultUrl: '${vault.properties.vaultUri}secrets/numerai-secret-key'
          identity: identity.id
        }
      ]
      registries: buildImage ? [
        {
          server: '${registryName}.azurecr.io'
          identity: identity.id
        }
      ] : []
    }
    template: {
      containers: [
        {
          name: 'autopilot'
          image: jobImage
          // tini (the image's init) maps exit 3 (no round open) and 4 (another run holds the
          // lock) to 0: an idle slot is neither retried nor listed as a failed execution. No
          // shell in between: SIGTERM reaches the run, which stops in seconds (exit 130).
          command: [
            '/usr/bin/tini'
            '-e'
            '3'
            '-e'
            '4'
            '--'
            'numerai-autopilot'
            'run'
          ]
          env: [
            {
              name: 'NUMERAI_PUBLIC_ID'
              secretRef: 'numerai-public-id'
            }
            {
              name: 'NUMERAI_SECRET_KEY'
              secretRef: 'numerai-secret-key'
            }
            {
              name: 'NUMERAI_MODELS_DIR'
              value: '/models'
            }
            {
              name: 'NUMERAI_DATA_DIR'
              value: '/data'
            }
            {
              name: 'NUMERAI_LOG_FORMAT'
              value: 'json'
            }
            {
              name: 'NUMERAI_WORKERS'
              value: string(workers)
            }
          ]
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          volumeMounts: [
            {
              volumeName: 'models'
              mountPath: '/models'
            }
            {
              volumeName: 'data'
              mountPath: '/data'
            }
          ]
        }
      ]
      volumes: [
        {
          name: 'models'
          storageType: 'AzureFile'
          storageName: modelsStorage.name
        }
        {
          name: 'data'
          storageType: 'AzureFile'
          storageName: dataStorage.name
          // The image's user (10001) owns what it writes: the cache, the ledger and the lock.
          mountOptions: 'uid=10001,gid=10001,dir_mode=0750,file_mode=0640,mfsymlinks'
        }
      ]
    }
  }
  dependsOn: [
    vaultReader
    registryPull
  ]
}

output jobName string = deployJob ? job.name : ''
output keyVaultName string = vault.name
output storageAccountName string = storage.name
output registryName string = buildImage ? registry.name : ''
output image string = jobImage
output environmentName string = environment.name
