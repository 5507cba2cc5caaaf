"""The GraphQL texts, as numerapi 3.1.1 sends them (what Numerai is known to accept).

Variable types follow numerapi (``$modelId: String``) even where the schema says ``ID``: the server
does not enforce variable-type positions and these exact texts are proven in production.
"""

from __future__ import annotations

CURRENT_ROUND = """
query($tournament: Int!) {
  rounds(tournament: $tournament number: 0) {
    number
    openTime
    closeTime
    closeStakingTime
  }
}
"""

ACCOUNT_MODELS = """
query {
  account {
    models {
      id
      name
      tournament
      computePickleUpload { id }
    }
  }
}
"""

# The field Numerai's own web app uses: every model's recent submissions in one request (only
# the subfields _parse reads).
LATEST_SUBMISSIONS = """
query($latestNRounds: Int!) {
  account {
    models {
      id
      name
      tournament
      latestSubmissions(latestNRounds: $latestNRounds) {
        id
        roundNumber
        status
        filename
        timestamp
      }
    }
  }
}
"""

# numerapi's get_submission_filenames, plus id and insertedAt.
MODEL_SUBMISSIONS = """
query($modelId: String) {
  model(modelId: $modelId) {
    submissions {
      id
      filename
      selected
      insertedAt
      round {
        tournament
        number
      }
    }
  }
}
"""

LIST_DATASETS = """
query($round: Int $tournament: Int) {
  listDatasets(round: $round tournament: $tournament)
}
"""

DATASET_URL = """
query($filename: String! $round: Int $tournament: Int) {
  dataset(filename: $filename round: $round tournament: $tournament)
}
"""

UPLOAD_AUTH = """
query($filename: String! $tournament: Int! $modelId: String) {
  submission_upload_auth(filename: $filename tournament: $tournament modelId: $modelId) {
    filename
    url
  }
}
"""

UPLOAD_AUTH_SIGNALS = """
query($filename: String! $tournament: Int! $modelId: String) {
  submissionUploadSignalsAuth(filename: $filename tournament: $tournament modelId: $modelId) {
    filename
    url
  }
}
"""

# No ``source``: numerapi sends a literal "numerapi"; we do not know which values Numerai
# accepts, and the argument is optional.
CREATE_SUBMISSION = """
mutation($filename: String! $tournament: Int! $modelId: String $triggerId: String) {
  create_submission(filename: $filename tournament: $tournament modelId: $modelId
                    triggerId: $triggerId) {
    id
  }
}
"""

CREATE_SIGNALS_SUBMISSION = """
mutation($filename: String! $modelId: String $triggerId: String) {
  createSignalsSubmission(filename: $filename modelId: $modelId triggerId: $triggerId) {
    id
    firstEffectiveDate
  }
}
"""

SET_WEBHOOK = """
mutation($modelId: String! $newSubmissionWebhook: String) {
  setSubmissionWebhook(modelId: $modelId newSubmissionWebhook: $newSubmissionWebhook)
}
"""

# --- Model Uploads (pickles Numerai runs), as numerapi's model_upload sends them ------------------
PICKLE_DATA_VERSIONS = """
query {
  computePickleDataVersions {
    id
    name
  }
}
"""

PICKLE_DOCKER_IMAGES = """
query {
  computePickleDockerImages {
    id
    name
  }
}
"""

PICKLE_UPLOAD_AUTH = """
query($filename: String! $modelId: ID) {
  computePickleUploadAuth(filename: $filename modelId: $modelId) {
    filename
    url
  }
}
"""

CREATE_PICKLE_UPLOAD = """
mutation($filename: String! $tournament: Int! $modelId: ID $dataVersionId: ID
         $dockerImageId: ID) {
  createComputePickleUpload(filename: $filename tournament: $tournament modelId: $modelId
                            dataVersionId: $dataVersionId dockerImageId: $dockerImageId) {
    id
  }
}
"""

PICKLES = """
query($modelId: ID) {
  computePickles(modelId: $modelId) {
    id
    filename
    dataVersion
    dockerImageName
    validationStatus
  }
}
"""
