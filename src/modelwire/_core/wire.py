"""Pure conversions between protobuf wire values and the Python values users see.

Timestamps become timezone-aware UTC datetimes (None when unset); naive datetimes given to us are
taken as UTC (what the published clients produced). Enum numbers the SDK does not know yet become
"unrecognized" members instead of crashing (see `open_enum`).
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any, TypeVar

from google.protobuf import timestamp_pb2

E = TypeVar("E", bound=enum.Enum)


def from_timestamp(message: Any, field_name: str) -> datetime | None:
    """The datetime of a Timestamp field, or None when the field is unset."""
    if not message.HasField(field_name):
        return None
    ts: timestamp_pb2.Timestamp = getattr(message, field_name)
    return datetime.fromtimestamp(ts.seconds, timezone.utc).replace(microsecond=ts.nanos // 1000)


def to_timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """An exact Timestamp (no float rounding); naive datetimes are taken as UTC."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
    seconds = delta.days * 86400 + delta.seconds
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=delta.microseconds * 1000)


class OpenStrEnum(str, enum.Enum):
    """A str enum that tolerates values it does not know: they become pseudo-members
    named `UNRECOGNIZED_<n>` rather than raising, so a new server enum never breaks a client."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str) and value.startswith("UNRECOGNIZED_"):
            member = str.__new__(cls, value)
            member._name_ = value
            member._value_ = value
            return member
        return None

    def __str__(self) -> str:
        return str(self.value)


def open_enum(cls: type[E], number: int, prefix: str, names: dict[int, str]) -> E:
    """Member of `cls` for wire `number` (`names` is the proto enum's number -> name map)."""
    name = names.get(number)
    if name is None:
        return cls(f"UNRECOGNIZED_{number}")
    return cls(name.removeprefix(prefix))


def enum_names(enum_descriptor: Any) -> dict[int, str]:
    return {v.number: v.name for v in enum_descriptor.values}
