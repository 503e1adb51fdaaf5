"""The Decthings emulator: the real HTTP + WebSocket protocol on a local port, backed by SQLite.

Datasets, models (with built-in models that really compute), states, snapshots, evaluation and
background training with WebSocket events. See `server.DecthingsEmulator` and
docs/decisions/0006-decthings-emulator.md.
"""

from modelwire.emulator.decthings.builtins import BUILTINS, DECTHINGS_OWNER
from modelwire.emulator.decthings.server import BASE_PATH, DecthingsEmulator

__all__ = ["BASE_PATH", "BUILTINS", "DECTHINGS_OWNER", "DecthingsEmulator"]
