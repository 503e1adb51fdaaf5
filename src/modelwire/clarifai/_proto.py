"""Building request messages from keyword arguments, with clear errors for unknown names."""

from __future__ import annotations

from typing import Any, TypeVar

from google.protobuf import json_format, message

from modelwire.clarifai.errors import UserError

M = TypeVar("M", bound=message.Message)


def from_kwargs(cls: type[M], values: dict[str, Any], *, what: str) -> M:
    """`cls` with `values` (proto field names; nested dicts for messages, dicts for Struct)."""
    known = {f.name for f in cls.DESCRIPTOR.fields}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UserError(f"{what}: unknown field(s) {unknown}; known fields: {sorted(known)}")
    plain = {k: _plain(v) for k, v in values.items() if v is not None}
    try:
        return json_format.ParseDict(plain, cls())
    except json_format.ParseError as exc:
        raise UserError(f"{what}: {exc}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, message.Message):
        return json_format.MessageToDict(value, preserving_proto_field_name=True)
    return value
