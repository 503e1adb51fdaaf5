"""Dump the public surface of some classes: member kinds, async-ness and call signatures, as JSON.

Run by any venv's python with only the standard library, so the same dumper reads a published
SDK in its own venv and modelwire in ours (tests/dropin/test_signatures.py compares the two):

    python scripts/signatures.py SPECS_JSON OUT_JSON

SPECS_JSON is a file holding a list of `{"path": "module:Attr.attr[key]", "members": [...]}`:
`path` names the object to import (a module, then attributes and `[key]` subscripts of mappings);
`members` the names to record besides every public one the object has (`__init__` is its
constructor). OUT_JSON gets `{path: {"error": ..., "members": {name: member}}}` where a member is

    {"kind": "function" | "staticmethod" | "classmethod" | "property" | "attribute"
             | "instance attribute" | "missing",
     "async": "coroutine" | "async generator" | null,
     "defined_in": "<class qualname in the MRO>",
     "params": [{"name", "kind", "default": bool, "default_repr": str | null}] | null,
     "signature_error": str | null}

`params` leave out the bound first parameter (`self`/`cls`) of functions and classmethods, so
they are what a caller passes. "instance attribute" is a name the class never defines but sets on
`self` in `__init__` (or annotates, or declares as a dataclass field): `app.models` in clarifai 2.x.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import re
import sys
import textwrap
import traceback
import warnings
from typing import Any

SIMPLE = (type(None), bool, int, float, str, bytes)


def resolve(path: str) -> Any:
    """`module:Attr.attr[key]` -> the object (a bare `module` is the module)."""
    module_name, _, rest = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for match in re.finditer(r"\.?([A-Za-z_][A-Za-z_0-9]*)|\[([^\]]+)\]", rest):
        attr, key = match.groups()
        obj = getattr(obj, attr) if attr is not None else obj[key]
    return obj


def _simple(value: Any) -> bool:
    if isinstance(value, SIMPLE) and not isinstance(value, enum.Enum):
        return True
    if isinstance(value, (list, tuple)):
        return all(_simple(v) for v in value)
    if isinstance(value, dict):
        return all(_simple(k) and _simple(v) for k, v in value.items())
    return False


def default_repr(value: Any) -> str | None:
    text = repr(value)
    return text if _simple(value) and len(text) <= 120 else None


def _params(fn: Any, drop_first: bool) -> tuple[list[dict[str, Any]] | None, str | None]:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    params = list(signature.parameters.values())
    if drop_first and params and params[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    ):
        params = params[1:]
    out = []
    for p in params:
        has_default = p.default is not inspect.Parameter.empty
        out.append(
            {
                "name": p.name,
                "kind": p.kind.name,
                "default": has_default,
                "default_repr": default_repr(p.default) if has_default else None,
            }
        )
    return out, None


def _async(fn: Any) -> str | None:
    if inspect.isasyncgenfunction(fn):
        return "async generator"
    if inspect.iscoroutinefunction(fn):
        return "coroutine"
    return None


def _instance_attributes(cls: type) -> set[str]:
    """Names set on `self` in an `__init__` of the MRO, annotated on a class, or dataclass fields."""
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(getattr(klass, "__dataclass_fields__", {}) or {})
        names.update(vars(klass).get("__annotations__", {}) or {})
        init = vars(klass).get("__init__")
        if inspect.isfunction(init):
            try:
                source = textwrap.dedent(inspect.getsource(init))
            except (OSError, TypeError):
                continue
            names.update(re.findall(r"\bself\.([A-Za-z_][A-Za-z_0-9]*)\s*(?::[^=\n]+)?=(?!=)", source))
    return names


def _owner(cls: type, name: str) -> str | None:
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass.__qualname__
    return None


def describe_member(obj: Any, name: str, instance_attrs: set[str]) -> dict[str, Any]:
    member: dict[str, Any] = {
        "kind": "missing",
        "async": None,
        "defined_in": None,
        "params": None,
        "signature_error": None,
    }
    is_class = inspect.isclass(obj)
    if name == "__init__" and is_class:
        member["kind"] = "constructor"
        member["defined_in"] = obj.__qualname__
        member["params"], member["signature_error"] = _params(obj, drop_first=False)
        return member
    try:
        raw = inspect.getattr_static(obj, name)
    except AttributeError:
        if is_class and name in instance_attrs:
            member["kind"] = "instance attribute"
        return member
    if is_class:
        member["defined_in"] = _owner(obj, name)
    dataclass_fields = getattr(obj, "__dataclass_fields__", {}) or {} if is_class else {}
    if isinstance(raw, staticmethod):
        member["kind"] = "staticmethod"
        fn, drop = raw.__func__, False
    elif isinstance(raw, classmethod):
        member["kind"] = "classmethod"
        fn, drop = raw.__func__, True
    elif isinstance(raw, property):
        member["kind"] = "property"
        return member
    elif inspect.isfunction(raw) or inspect.ismethoddescriptor(raw) and callable(raw):
        # a plain function on a class is an instance method; on a module, a function
        member["kind"] = "function"
        fn, drop = raw, is_class
    elif inspect.isclass(raw):
        member["kind"] = "class"
        fn, drop = raw, False
    else:
        if is_class and name in dataclass_fields:
            member["kind"] = "instance attribute"
        elif inspect.isdatadescriptor(raw):
            member["kind"] = "property"
        else:
            member["kind"] = "attribute"
            member["value_repr"] = default_repr(raw)
        return member
    member["async"] = _async(fn)
    member["params"], member["signature_error"] = _params(fn, drop_first=drop)
    return member


def describe(path: str, extra: list[str]) -> dict[str, Any]:
    try:
        obj = resolve(path)
    except Exception:
        return {"error": traceback.format_exc(limit=3).strip().splitlines()[-1], "members": {}}
    instance_attrs = _instance_attributes(obj) if inspect.isclass(obj) else set()
    names = {n for n in (*dir(obj), *instance_attrs) if not n.startswith("_")} | set(extra)
    if inspect.isclass(obj):
        names.add("__init__")
    members = {name: describe_member(obj, name, instance_attrs) for name in sorted(names)}
    return {
        "error": None,
        "type": "class" if inspect.isclass(obj) else type(obj).__name__,
        "qualname": getattr(obj, "__qualname__", None),
        "module": getattr(obj, "__module__", None),
        "members": members,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.stderr.write(__doc__ or "")
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        specs = json.load(handle)
    warnings.simplefilter("ignore")  # published SDKs warn on import; nothing here acts on it
    out = {spec["path"]: describe(spec["path"], list(spec.get("members", []))) for spec in specs}
    with open(argv[2], "w", encoding="utf-8") as handle:
        json.dump(out, handle, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
