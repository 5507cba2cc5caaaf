"""Every error numerai-autopilot raises derives from :class:`AutopilotError`.

The tree, and what the run does with each branch::

    AutopilotError
    ├── ConfigError                 settings or models file wrong: fix it, exit code 2
    ├── NumeraiError                the Numerai API answered with a problem (or did not answer)
    │   ├── TransientError          5xx, 429, timeout, reset, non-JSON body: safe to retry
    │   ├── AuthError               bad/revoked key or missing scope: fix the key, never retried
    │   ├── NotFoundError           unknown model, dataset or round
    │   ├── RoundClosedError        no round is open for submissions
    │   ├── InvalidSubmissionError  Numerai refused the uploaded predictions
    │   └── ApiError                any other GraphQL error: permanent, message kept verbatim
    ├── DataError                   a download or cached file is wrong (size, checksum, columns)
    │   └── UnreadableDataError     a file that passed its checks cannot be read: evict it
    ├── ModelError                  one model could not produce predictions (fails that model only)
    │   ├── ArtifactChangedError    the artifact no longer matches its sha256 pin
    │   ├── MissingExtraError       the model's library is not installed: names the extra
    │   ├── MissingFeatureError     the live data lacks features the model was trained on
    │   └── WorkerError             the worker crashed, hung past its timeout or ran out of memory
    ├── PredictionInvalidError      predictions failed validation: never uploaded
    └── LockedError                 another run holds the lock for this state dir

Foreign exceptions (httpx, pyarrow, sqlite3, model libraries) are translated once, where they
enter, with ``raise ... from exc``; messages never contain a secret.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The process's exit code, the same whatever started the run (run, schedule, serve)."""

    OK = 0
    """Everything due is submitted, or nothing was due."""
    MODEL_FAILED = 1
    """At least one model failed (each is named with its reason), or the API could not be
    reached: the next trigger may succeed."""
    CONFIG = 2
    """Usage, settings, models file or API key: a person must fix something first."""
    NO_ROUND = 3
    """No round is open in any tournament in use."""
    LOCKED = 4
    """Another run holds the lock for this state dir."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C or SIGINT; the next run resumes where this one stopped."""


class AutopilotError(Exception):
    """Base of every error this project raises on purpose."""

    reported: bool = False
    """True once the run lifecycle has logged, alerted and recorded this error, so whatever
    catches it later (the CLI) does not report it a second time."""


class ConfigError(AutopilotError):
    """A setting or the models file is wrong; the message names the file, entry and field."""


class NumeraiError(AutopilotError):
    """The Numerai API answered with an error, or not at all."""


class TransientError(NumeraiError):
    """A failure that may go away by itself (5xx, 429, timeout, connection reset, bad body).

    ``retry_after`` carries the server's ``Retry-After`` in seconds when it sent one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthError(NumeraiError):
    """The API key is invalid, revoked, or lacks the scope the call needs."""


class NotFoundError(NumeraiError):
    """A model, dataset or round the call named does not exist (for this account)."""


class RoundClosedError(NumeraiError):
    """No round is open for submissions in that tournament."""


class InvalidSubmissionError(NumeraiError):
    """Numerai refused the submission (the file did not arrive or failed its checks)."""


class ApiError(NumeraiError):
    """Any other error Numerai answered with; permanent, the message is Numerai's own."""


class DataError(AutopilotError):
    """A downloaded or cached data file is wrong: size, checksum, format or columns."""


class UnreadableDataError(DataError):
    """A data file whole by its size and checksum cannot be read (parquet, JSON): the checksum
    only proves it is what was downloaded. ``DataCache.evict`` it so the next run downloads
    it again."""


class ModelError(AutopilotError):
    """One model could not be loaded or could not predict. Fails that model only."""


class ArtifactChangedError(ModelError):
    """The model's artifact does not match the sha256 pinned in the models file."""


class MissingExtraError(ModelError):
    """The library a model format needs is not installed; the message names the extra."""


class MissingFeatureError(ModelError):
    """The live data lacks features the model needs; the message lists some of them."""


class WorkerError(ModelError):
    """The prediction worker crashed, exceeded its timeout or its memory bound."""


class PredictionInvalidError(AutopilotError):
    """Predictions failed validation (numerai-tools or our own checks); never uploaded."""


class LockedError(AutopilotError):
    """Another run holds the lock on this state directory."""


def exit_code_for(exc: BaseException) -> ExitCode:
    """The one mapping from an error to the exit code a scheduler acts on."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(exc, LockedError):
        return ExitCode.LOCKED
    if isinstance(exc, ConfigError | AuthError):
        return ExitCode.CONFIG
    return ExitCode.MODEL_FAILED
