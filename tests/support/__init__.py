"""What the test areas share, importable as ``support`` (pytest's ``pythonpath = ["tests"]``).

- ``sandbox``: the one way a test opens a sandbox (the ``sb`` fixture and every other one).
- ``frames``: the one synthetic frame factory (Numerai-like ids and int8 features).
- ``rig``: the one rig: a sandbox, a models dir, a data dir, the environment a run gets, the
  run through the CLI (in process or as a killable child) and an alert receiver.
- ``invariants``: what every fault scenario asserts after a run.
- ``workshop``: real model artifacts of every format, trained once per test session.
- ``kill_driver``: the child process that kills a run at an exact point.
- ``schedule_models``: cheap function models (flaky, slow) for the scheduling tests.
- ``receiver``: the loopback alert and healthcheck receiver, and a run's Result.
- ``clocks``, ``sandbox_http``, ``deploy_paths``, ``cron``, ``bicep``: smaller helpers.
"""
