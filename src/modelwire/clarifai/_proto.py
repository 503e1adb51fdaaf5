"""Building request messages from keyword arguments, dicts and protobuf messages of any origin.

Users hand us messages built with clarifai-grpc or with `google.protobuf` directly (a `Struct` for
`metadata=`, `Concept`s in `select_concepts`, an `OutputConfig`). Our generated classes live in a
private descriptor pool, so those are never instances of our classes and `CopyFrom` between them
raises TypeError. A message is therefore accepted by its type's full name and copied through its
wire bytes, which is exact for any two compatible definitions and keeps unknown fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from google.protobuf import json_format, message

from modelwire._core.wire import WELL_KNOWN_VALUES, is_repeated
from modelwire.clarifai.errors import UserError

M = TypeVar("M", bound=message.Message)

# Well-known types whose natural Python form is not a dict of their fields (a Struct is any JSON
# object, a Timestamp an RFC 3339 string, ...): json_format knows each one's form.
_JSON_FORM = WELL_KNOWN_VALUES | {"google.protobuf.Struct", "google.protobuf.FieldMask"}


def is_message(value: Any) -> bool:
    """True for a protobuf message of any pool or implementation."""
    return isinstance(value, message.Message)


def of_type(value: Any, cls: type[message.Message]) -> bool:
    """True when `value` is a `cls` message from any pool (same full name)."""
    return is_message(value) and bool(value.DESCRIPTOR.full_name == cls.DESCRIPTOR.full_name)


def from_kwargs(cls: type[M], values: Mapping[str, Any], *, what: str) -> M:
    """`cls` with `values`: proto field names to plain values, dicts or messages (of any pool)."""
    result = cls()
    merge_into(result, values, what=what)
    return result


def to_message(value: Any, cls: type[M], *, what: str) -> M:
    """`value` (a message of the same type from any pool, or its dict/JSON form) as our `cls`."""
    result = cls()
    merge_into(result, value, what=what)
    return result


def to_messages(values: Any, cls: type[M], *, what: str) -> list[M]:
    """A list of our `cls` from an iterable of such messages (of any pool) or their dicts; ours
    are kept as they are (no copy)."""
    if type(values) is list and all(type(item) is cls for item in values):
        return list(values)  # the common case, checked in one pass (predict's hot path)
    if not _is_list(values):
        raise UserError(f"{what} must be a list of {cls.DESCRIPTOR.full_name} messages")
    return [
        item if type(item) is cls else to_message(item, cls, what=f"{what}[{index}]")
        for index, item in enumerate(values)
    ]


def merge_into(target: message.Message, value: Any, *, what: str) -> None:
    """Merge `value` into `target`: a message of the same type (by full name, through its bytes),
    the type's JSON form for well-known types, or a dict of field values."""
    name = target.DESCRIPTOR.full_name
    if is_message(value):
        given = value.DESCRIPTOR.full_name
        if given != name:
            raise UserError(f"{what}: expected a {name} message (or a dict), got a {given}")
        target.MergeFromString(value.SerializeToString())
    elif name in _JSON_FORM:
        _parse(_plain(value), target, what)
    elif isinstance(value, Mapping):
        _merge_fields(target, value, what)
    else:
        raise UserError(f"{what}: expected a {name} message or a dict, got {type(value).__name__}")


def _merge_fields(target: message.Message, values: Mapping[str, Any], what: str) -> None:
    fields = target.DESCRIPTOR.fields_by_name
    unknown = sorted(str(k) for k in values if k not in fields)
    if unknown:
        raise UserError(f"{what}: unknown field(s) {unknown}; known fields: {sorted(fields)}")
    for key, value in values.items():
        if value is None:
            continue
        field = fields[key]
        container = getattr(target, key)
        is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
        if field.message_type is None or is_map:
            _parse({key: _plain(value)}, target, what)  # scalars, enums by name or number, maps
        elif is_repeated(field):
            if (
                isinstance(value, (str, bytes, Mapping))
                or is_message(value)
                or not hasattr(value, "__iter__")
            ):
                raise UserError(f"{what}.{key}: expected a list, got {type(value).__name__}")
            del container[:]
            for index, item in enumerate(value):
                merge_into(container.add(), item, what=f"{what}.{key}[{index}]")
        else:
            merge_into(container, value, what=f"{what}.{key}")


def _is_list(value: Any) -> bool:
    """An iterable of items (not a str, bytes, dict or message, which iterate too)."""
    if isinstance(value, (str, bytes, Mapping)) or is_message(value):
        return False
    return hasattr(value, "__iter__")


def _parse(plain: Any, target: message.Message, what: str) -> None:
    try:
        json_format.ParseDict(plain, target)
    except json_format.ParseError as exc:
        raise UserError(f"{what}: {exc}") from None


def _plain(value: Any) -> Any:
    """`value` with any messages inside it replaced by their JSON form (for json_format)."""
    if is_message(value):
        return json_format.MessageToDict(value, preserving_proto_field_name=True)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
