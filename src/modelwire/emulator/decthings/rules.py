"""Tensor rules and parameter definitions: parsing them from params and checking tensors against them.

A parameter definition is `{name, required, rules: {shape, allowedTypes, annotations}}`. `shape`
lists the dimensions, -1 meaning "any length"; its length is the number of dimensions, so `[]` is a
scalar. Dataset keys use the same definitions and are enforced on every entry added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, get_args

from modelwire.decthings.tensor import DecthingsTensor, DecthingsTensorType, TensorFormatError
from modelwire.emulator.decthings.errors import (
    JsonObject,
    as_int,
    as_object,
    invalid_parameter,
    opt_list,
    req_list,
    req_str,
)

ELEMENT_TYPES: Final[tuple[str, ...]] = get_args(DecthingsTensorType)
DEFINITION_GROUPS: Final = ("createState", "train", "evaluateInput", "evaluateOutput")


def definition(
    name: str, shape: Sequence[int], allowed: Sequence[str], *, required: bool = True
) -> JsonObject:
    return {
        "name": name,
        "required": required,
        "rules": {"shape": list(shape), "allowedTypes": list(allowed), "annotations": []},
    }


def parse_definition(value: object, where: str) -> JsonObject:
    obj = as_object(value, where)
    name = req_str(obj, "name", where, nonempty=True)
    required = obj.get("required", True)
    if not isinstance(required, bool):
        raise invalid_parameter(f"{where}.required", "must be a boolean")
    rules = as_object(obj.get("rules"), f"{where}.rules")
    shape = [
        as_int(d, f"{where}.rules.shape[{i}]", minimum=-1)
        for i, d in enumerate(req_list(rules, "shape", f"{where}.rules"))
    ]
    allowed = req_list(rules, "allowedTypes", f"{where}.rules")
    if not allowed:
        raise invalid_parameter(f"{where}.rules.allowedTypes", "must list at least one element type")
    for i, t in enumerate(allowed):
        if t not in ELEMENT_TYPES:
            raise invalid_parameter(
                f"{where}.rules.allowedTypes[{i}]", f"unknown type {t!r}; one of {', '.join(ELEMENT_TYPES)}"
            )
    annotations = opt_list(rules, "annotations", f"{where}.rules") or []
    if not all(isinstance(a, str) for a in annotations):
        raise invalid_parameter(f"{where}.rules.annotations", "must be an array of strings")
    return {
        "name": name,
        "required": required,
        "rules": {"shape": shape, "allowedTypes": list(dict.fromkeys(allowed)), "annotations": annotations},
    }


def parse_definitions(value: object, where: str) -> list[JsonObject]:
    """A list of parameter definitions with distinct names."""
    if not isinstance(value, list):
        raise invalid_parameter(where, "must be an array of parameter definitions")
    out = [parse_definition(item, f"{where}[{i}]") for i, item in enumerate(value)]
    names = [d["name"] for d in out]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise invalid_parameter(where, f"the name {duplicate!r} is used twice")
    return out


def parse_definition_groups(value: object, where: str) -> JsonObject:
    """Model `parameterDefinitions`: the four groups, each defaulting to []."""
    obj = as_object(value, where)
    unknown = set(obj) - set(DEFINITION_GROUPS)
    if unknown:
        raise invalid_parameter(
            where, f"unknown group(s) {sorted(unknown)}; expected {list(DEFINITION_GROUPS)}"
        )
    return {g: parse_definitions(obj.get(g, []), f"{where}.{g}") for g in DEFINITION_GROUPS}


def empty_definitions() -> JsonObject:
    return {g: [] for g in DEFINITION_GROUPS}


def violation(tensor: DecthingsTensor, rules: Mapping[str, Any]) -> str | None:
    """Why `tensor` breaks `rules` (type, then shape), or None when it follows them."""
    allowed: list[str] = rules["allowedTypes"]
    if tensor.type() not in allowed:
        return f"type {tensor.type()} is not allowed (allowed: {', '.join(allowed)})"
    want: list[int] = rules["shape"]
    got = tensor.shape()
    if len(got) != len(want) or any(w != -1 and w != g for w, g in zip(want, got, strict=True)):
        return f"shape {got} does not match {want} (-1 = any length)"
    return None


def read_one_tensor(blob: bytes, where: str) -> DecthingsTensor:
    """The single serialized tensor a blob must hold."""
    try:
        tensor, end = DecthingsTensor.deserialize(blob)
    except (TensorFormatError, ValueError) as exc:
        raise invalid_parameter(where, f"is not a serialized DecthingsTensor: {exc}") from None
    if end != len(blob):
        raise invalid_parameter(
            where, f"must hold exactly one tensor; {len(blob) - end} bytes follow the first"
        )
    return tensor


def read_tensors(blob: bytes, where: str) -> list[DecthingsTensor]:
    """The tensors concatenated in a blob."""
    try:
        return DecthingsTensor.deserialize_many(blob)
    except (TensorFormatError, ValueError) as exc:
        raise invalid_parameter(
            where, f"is not a concatenation of serialized DecthingsTensors: {exc}"
        ) from None
