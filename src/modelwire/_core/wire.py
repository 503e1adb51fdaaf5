"""Pure conversions between protobuf wire values and the Python values users see.

Timestamps become timezone-aware UTC datetimes (None when unset); naive datetimes given to us are
taken as UTC (what the published clients produced). Enum numbers the SDK does not know yet become
"unrecognized" members instead of crashing (see `enum_converter`).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from modelwire._core.errors import ModelwireError
from modelwire._gen.google.protobuf import timestamp_pb2

E = TypeVar("E", bound=enum.Enum)


def from_timestamp(message: Any, field_name: str) -> datetime | None:
    """The datetime of a Timestamp field, or None when the field is unset."""
    if not message.HasField(field_name):
        return None
    ts: timestamp_pb2.Timestamp = getattr(message, field_name)
    return datetime.fromtimestamp(ts.seconds, timezone.utc).replace(microsecond=ts.nanos // 1000)


# Well-known message types that stand for one value: a Python value rather than a dict of fields,
# and set or merged as a whole (a BoolValue(false) must still set false).
WELL_KNOWN_VALUES = frozenset(
    f"google.protobuf.{name}"
    for name in (
        "Value",
        "ListValue",
        "Timestamp",
        "Duration",
        "BoolValue",
        "BytesValue",
        "DoubleValue",
        "FloatValue",
        "Int32Value",
        "Int64Value",
        "StringValue",
        "UInt32Value",
        "UInt64Value",
    )
)


def is_repeated(field: Any) -> bool:
    """Whether a FieldDescriptor is repeated: protobuf 6.31+ says so directly (and deprecates
    `label`), protobuf 5 only through `label`."""
    flag = getattr(field, "is_repeated", None)
    return bool(flag) if flag is not None else bool(field.label == field.LABEL_REPEATED)


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


def enum_converter(cls: type[E], descriptor: Any, prefix: str) -> Callable[[int], E]:
    """A fast wire-number -> member function for `cls` (names are the proto's minus `prefix`).

    Numbers the SDK does not know map to `UNRECOGNIZED_<n>` members instead of raising.
    """
    table = {value.number: cls(value.name.removeprefix(prefix)) for value in descriptor.values}

    def convert(number: int) -> E:
        member = table.get(number)
        return member if member is not None else cls(f"UNRECOGNIZED_{number}")

    return convert


class View:
    """A read-only typed view over a wire message: fields are computed on access, so a response
    costs almost nothing until it is read. Views compare equal when their messages are equal;
    `.proto` is the underlying message (treat it as read-only)."""

    __slots__ = ("_pb",)
    _fields: tuple[str, ...] = ()

    def __init__(self, pb: Any) -> None:
        self._pb = pb

    @classmethod
    def from_proto(cls: type[V], pb: Any) -> V:
        """The view over `pb` (no copy: the message is shared)."""
        return cls(pb)

    @property
    def proto(self) -> Any:
        """The underlying wire message; treat it as read-only."""
        return self._pb

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return bool(self._pb == other._pb)

    __hash__ = None  # type: ignore[assignment]  # the message inside is mutable

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), type(self._pb), self._pb.SerializeToString()))


def _rebuild(cls: type[V], message_type: Any, data: bytes) -> V:
    return cls(message_type.FromString(data))


V = TypeVar("V", bound=View)


F = TypeVar("F", bound=Callable[..., Any])


def bad_input_as(error: type[ModelwireError]) -> Callable[[F], F]:
    """For pure request builders: a TypeError, ValueError, LookupError or OverflowError raised while
    building is the caller's bad input (a wrong type, a lone surrogate protobuf cannot encode, a
    number out of range), so it becomes `error`, naming the builder, instead of escaping raw."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except ModelwireError:
                raise
            except (TypeError, ValueError, OverflowError, LookupError) as exc:
                raise error(f"{fn.__name__}: an argument has the wrong type or value: {exc}") from None

        return checked  # type: ignore[return-value]

    return wrap
