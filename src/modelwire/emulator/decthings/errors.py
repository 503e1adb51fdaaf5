"""API errors of the Decthings emulator, and readers for request params that raise them.

A Decthings API error travels in the response body of an HTTP 200 (or a WebSocket response frame)
as `{"error": {"code": "<snake_case>", ...extra fields}}`. Handlers raise `ApiError`; the server
turns it into that body. Bad params use the real `invalid_parameter` shape, naming the parameter
with a dotted path (`properties.name`, `filter.ids`) and saying what to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JsonObject = dict[str, Any]
# What a handler returns: the result object and the blobs that follow it.
Reply = tuple[JsonObject, list[bytes]]


class ApiError(Exception):
    """An error the API reports in the response body: `code` plus the code's extra fields."""

    def __init__(self, code: str, **fields: Any) -> None:
        super().__init__(code)
        self.code = code
        self.fields = fields

    def body(self) -> JsonObject:
        return {"code": self.code, **self.fields}

    def __repr__(self) -> str:
        return f"ApiError({self.body()!r})"


def invalid_parameter(name: str, reason: str) -> ApiError:
    return ApiError("invalid_parameter", parameterName=name, reason=reason)


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def as_object(value: object, name: str) -> JsonObject:
    if not isinstance(value, dict):
        raise invalid_parameter(name, f"must be an object, got {_kind(value)}")
    return value


def req_str(params: Mapping[str, Any], key: str, prefix: str = "", *, nonempty: bool = False) -> str:
    name = _path(prefix, key)
    if key not in params:
        raise invalid_parameter(name, "is required")
    value = params[key]
    if not isinstance(value, str):
        raise invalid_parameter(name, f"must be a string, got {_kind(value)}")
    if nonempty and not value.strip():
        raise invalid_parameter(name, "must not be empty")
    return value


def opt_str(params: Mapping[str, Any], key: str, prefix: str = "", *, nonempty: bool = False) -> str | None:
    if params.get(key) is None:
        return None
    return req_str(params, key, prefix, nonempty=nonempty)


def as_int(value: object, name: str, *, minimum: int | None = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_parameter(name, f"must be an integer, got {_kind(value)}")
    if isinstance(value, float):
        if not value.is_integer():
            raise invalid_parameter(name, f"must be an integer, got {value}")
        value = int(value)
    if minimum is not None and value < minimum:
        raise invalid_parameter(name, f"must be at least {minimum}, got {value}")
    return value


def opt_int(
    params: Mapping[str, Any], key: str, default: int, prefix: str = "", *, minimum: int | None = 0
) -> int:
    value = params.get(key)
    if value is None:
        return default
    return as_int(value, _path(prefix, key), minimum=minimum)


def req_list(params: Mapping[str, Any], key: str, prefix: str = "") -> list[Any]:
    name = _path(prefix, key)
    if key not in params:
        raise invalid_parameter(name, "is required")
    value = params[key]
    if not isinstance(value, list):
        raise invalid_parameter(name, f"must be an array, got {_kind(value)}")
    return value


def opt_list(params: Mapping[str, Any], key: str, prefix: str = "") -> list[Any] | None:
    if params.get(key) is None:
        return None
    return req_list(params, key, prefix)


def str_list(params: Mapping[str, Any], key: str, prefix: str = "") -> list[str] | None:
    """An optional array of strings."""
    items = opt_list(params, key, prefix)
    if items is None:
        return None
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise invalid_parameter(f"{_path(prefix, key)}[{i}]", f"must be a string, got {_kind(item)}")
    return items


def int_list(params: Mapping[str, Any], key: str, prefix: str = "") -> list[int]:
    """A required array of non-negative integers."""
    name = _path(prefix, key)
    return [as_int(v, f"{name}[{i}]") for i, v in enumerate(req_list(params, key, prefix))]


def opt_object(params: Mapping[str, Any], key: str, prefix: str = "") -> JsonObject | None:
    value = params.get(key)
    if value is None:
        return None
    return as_object(value, _path(prefix, key))


def req_object(params: Mapping[str, Any], key: str, prefix: str = "") -> JsonObject:
    name = _path(prefix, key)
    if key not in params:
        raise invalid_parameter(name, "is required")
    return as_object(params[key], name)


def tags(params: Mapping[str, Any], key: str, prefix: str = "") -> list[dict[str, str]] | None:
    """An optional array of `{tag, value}` string pairs."""
    items = opt_list(params, key, prefix)
    if items is None:
        return None
    out = []
    for i, item in enumerate(items):
        where = f"{_path(prefix, key)}[{i}]"
        obj = as_object(item, where)
        out.append({"tag": req_str(obj, "tag", where), "value": req_str(obj, "value", where)})
    return out


def sort_direction(params: Mapping[str, Any], default: str) -> str:
    value = params.get("sortDirection")
    if value is None:
        return default
    if value not in ("asc", "desc"):
        raise invalid_parameter("sortDirection", f'must be "asc" or "desc", got {value!r}')
    return str(value)
