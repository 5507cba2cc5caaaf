"""Round-aware triggering: the foreground scheduler and the webhook trigger.

- :class:`Scheduler` -- sleeps until a round opens (times from the API), runs, retries what
  failed until the close, survives restarts (``numerai-autopilot schedule``)
- :func:`run_round`, :class:`Backoff` -- one round's job: run, retry with bounded backoff
"""

from ._job import Backoff, JobResult, run_round
from .scheduler import Scheduler, ScheduleSummary

__all__ = ["Backoff", "JobResult", "ScheduleSummary", "Scheduler", "run_round"]
