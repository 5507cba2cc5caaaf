"""Imported last by the fork server (run/_process.py): the thread pools its preloads loaded,
found once for every child it forks (run/_pools.py)."""

from ._pools import find

find()
