"""SQLite tables of the Decthings emulator (in the emulator's shared Store) and small helpers.

Resources are JSON documents plus the columns lookups need; tensor and state data are BLOBs. Dataset
entries keep one row per (folder, index, key): `folder` is "main" or "review" (the 'needs review'
entries), and indexes stay dense (0..count-1) because removal renumbers what follows, as the API's
index-based access implies.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any, Final

SCHEMA: Final = [
    """CREATE TABLE IF NOT EXISTS decthings_datasets (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, created_ms INTEGER NOT NULL,
        version_id TEXT NOT NULL, doc TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS decthings_entries (
        dataset_id TEXT NOT NULL, folder TEXT NOT NULL, position INTEGER NOT NULL, key TEXT NOT NULL,
        data BLOB NOT NULL, PRIMARY KEY (dataset_id, folder, position, key))""",
    """CREATE TABLE IF NOT EXISTS decthings_models (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, created_ms INTEGER NOT NULL,
        doc TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS decthings_states (
        model_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, created_ms INTEGER NOT NULL,
        doc TEXT NOT NULL, PRIMARY KEY (model_id, id))""",
    """CREATE TABLE IF NOT EXISTS decthings_snapshots (
        model_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, created_ms INTEGER NOT NULL,
        doc TEXT NOT NULL, PRIMARY KEY (model_id, id))""",
    # Data of states (owner_kind "state") and of the states frozen in snapshots ("snapshot").
    """CREATE TABLE IF NOT EXISTS decthings_state_data (
        model_id TEXT NOT NULL, owner_kind TEXT NOT NULL, owner_id TEXT NOT NULL, position INTEGER NOT NULL,
        key TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (model_id, owner_kind, owner_id, key))""",
    """CREATE TABLE IF NOT EXISTS decthings_training (
        id TEXT PRIMARY KEY, model_id TEXT NOT NULL, created_ms INTEGER NOT NULL, doc TEXT NOT NULL)""",
]

_clock_lock = threading.Lock()
_last_ms = 0


def now_ms() -> int:
    """Milliseconds since the epoch, strictly increasing, so creation order is total."""
    global _last_ms
    with _clock_lock:
        _last_ms = max(int(time.time() * 1000), _last_ms + 1)
        return _last_ms


def new_id() -> str:
    return str(uuid.uuid4())


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | bytes) -> Any:
    return json.loads(text)


def placeholders(values: list[Any] | tuple[Any, ...]) -> str:
    return ",".join("?" * len(values))
