"""The sandbox's GraphQL schema as SDL (executed by schema.py)."""

# A subset of Numerai's real schema (shared/numerai-schema, an introspection of 2025-09): every
# type, field, argument, default and deprecation here is as the real API declares it, so a test
# cannot pass against a looser API than the live one (tests/sandbox/test_real_schema_parity.py).
SDL = """
schema {
  query: RootQueryType
  mutation: RootMutationType
}

scalar Date
scalar Nmr
scalar Time

type RootQueryType {
  account: Account
  computePickleDataVersions(deprecated: Boolean! = false): [ComputePickleDataVersion]
  computePickleDockerImages(deprecated: Boolean = false): [ComputePickleDockerImage]
  computePickleUploadAuth(filename: String = "model.pkl", modelId: ID): FileUploadAuth
  computePickles(id: ID, modelId: ID, unassigned: Boolean! = false): [ComputePickleUpload]
  dataset(filename: String!, round: Int, tournament: Int): String
  listDatasets(round: Int, tournament: Int): [String]
  model(modelId: ID): Model
  pipelineStatus(date: String, tournament: String = "classic"): PipelineStatus
  rounds(limit: Int, number: Int, status: RoundStatus, target: String, tournament: Int): [Round]
  submissionDownloadAuth(id: ID!): FileUploadAuth
  submissionUploadAuth(filename: String!, modelId: ID, tournament: Int!): FileUploadAuth
  submissionUploadSignalsAuth(filename: String!, modelId: ID, tournament: Int = 11): FileUploadAuth
  submissions(id: ID, modelId: ID): [V2Submission]
}

type RootMutationType {
  createComputePickleUpload(dataVersionId: ID, dockerImageId: ID, filename: String!, modelId: ID,
                            source: String, tournament: Int!): ComputePickleUpload
  createSignalsSubmission(dataDatestamp: Int, filename: String!, modelId: ID, source: String,
                          tournament: Int = 11, triggerId: ID, version: Int): V2Submission
  createSubmission(dataDatestamp: Int, filename: String!, modelId: ID, source: String,
                   tournament: Int!, triggerId: ID, version: Int): V2Submission
  setSubmissionWebhook(modelId: String, newSubmissionWebhook: String): String
}

enum RoundStatus {
  OPEN
  RESOLVED
  RESOLVING
  UPCOMING
}

enum AccountStatusEnum {
  CREATED
  DELETED
  FLAGGED
  UNVERIFIED
  VERIFIED
}

type Round {
  closeStakingTime: Time
  closeTime: Time
  number: Int
  openTime: Time
  resolveTime: Time
  resolvedGeneral: Boolean
  resolvedStaking: Boolean
  tournament: Int
}

type Account {
  apiTokens: [ApiToken]
  availableNmr: Nmr
  email: String
  id: ID
  insertedAt: Time
  mfaEnabled: Boolean
  models(showArchived: Boolean = false): [Model]
  status: AccountStatusEnum
  username: String
  walletAddress: String
  walletTxns(limit: Int, offset: Int): [WalletTxn]
}

type ApiToken {
  name: String
  publicId: String
  scopes: [String]
}

type WalletTxn {
  amount: Nmr
  from: String
  status: String
  time: Time
  to: String
  tournament: Int
  txHash: String
  type: String
}

type Model {
  computePickleUpload: ComputePickleUpload
  id: ID
  latestSubmissions(latestNRounds: Int = 20): [LatestSubmission]
  name: String
  submissionWebhook: String
  submissions: [V2Submission] @deprecated(reason: "Use submissions instead")
  tournament: Int
  username: String
  v2Stake: V2Stake
}

type V2Stake {
  status: String
  txHash: String
}

type V2Submission {
  filename: String
  firstEffectiveDate: Time @deprecated(reason: "Always nil")
  id: ID
  insertedAt: Time
  round: Round
  selected: Boolean
  status: String @deprecated(reason: "Always nil")
  triggerId: String
}

type LatestSubmission {
  filename: String
  id: ID
  roundClose: Date
  roundCloseStaking: Date
  roundNumber: Int
  roundOpen: Date
  status: String
  timestamp: Time
}

type FileUploadAuth {
  filename: String
  url: String
}

type ComputePickleDataVersion {
  default: Boolean
  deprecated: Boolean
  id: ID
  name: String
}

type ComputePickleDockerImage {
  default: Boolean
  deprecated: Boolean
  id: ID
  name: String
}

type ComputePickleUpload {
  filename: String
  id: ID
  assignedModelSlots: [ID]
  dataVersion: String
  dataVersionId: ID
  dockerImageId: ID
  dockerImageName: String
  insertedAt: Time
  modelId: String
  validationStatus: String
}

type PipelineStatus {
  dataReadyAt: Time
  isScoringDay: Boolean
  resolvedAt: Time
  scoredAt: Time
  startedAt: Time
  tournament: Time
}
"""
