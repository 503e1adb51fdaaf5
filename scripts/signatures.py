"""Dump the public surface of some classes: member kinds, async-ness and call signatures, as JSON.

Run by any venv's python with only the standard library, so the same dumper reads a published
SDK in its own venv and modelwire in ours (tests/dropin/test_signatures.py compares the two):

    python scripts/signatures.py SPECS_JSON OUT_JSON

SPECS_JSON is a file holding a list of `{"path": "module:Attr.attr[key]", "members": [...]}`:
`path` names the object to import (a module, then attributes and `[key]` subscripts of mappings);
`members` the names to record besides every public one the object has (`__init__` is its
constructor). OUT_JSON gets `{path: {"error": ..., "members": {name: member}}}` where a member is

    {"kind": "constructor" (`__init__`) | "function" | "staticmethod" | "classmethod" | "class"
             | "property" | "attribute" (class-level) | "instance attribute" | "missing",
     "async": "coroutine" | "async generator" | null,
     "defined_in": "<class qualname in the MRO>",
     "params": [{"name", "kind", "default": bool, "default_repr": str | null}] | null,
     "signature_error": str | null}

`params` leave out the bound first parameter (`self`/`cls`) of functions and classmethods, so
they are what a caller passes. "instance attribute" is a name the class sets on `self` in one of
its methods (`app.models` in clarifai 2.x), annotates as a field, or declares as a dataclass
field; a class-level value of such a name is only its default.

The second half of this module is the comparison (`compare_member`: pure, imported by the test).
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
# `self.name = ...` / `self.name: T = ...` (not `==`)
SELF_ASSIGNMENT = re.compile(r"\bself\.([A-Za-z_][A-Za-z_0-9]*)\s*(?::[^=\n]+)?=(?!=)")


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
    if (
        drop_first
        and params
        and params[0].kind
        in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )
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
    """Names set on `self` in a method of the MRO, annotated on a class, or dataclass fields."""
    names: set[str] = set()
    for klass in cls.__mro__:
        names.update(getattr(klass, "__dataclass_fields__", {}) or {})
        names.update(vars(klass).get("__annotations__", {}) or {})
        for fn in vars(klass).values():
            if not inspect.isfunction(fn):
                continue
            try:
                source = textwrap.dedent(inspect.getsource(fn))
            except (OSError, TypeError):
                continue
            names.update(SELF_ASSIGNMENT.findall(source))
    return names


def _annotated_field(cls: type, name: str) -> bool:
    """Is `name` annotated on a class of the MRO as an instance field (`refusals: list[X] = []`),
    not a `ClassVar`?"""
    for klass in cls.__mro__:
        annotation = (vars(klass).get("__annotations__") or {}).get(name)
        if annotation is not None:
            return "ClassVar" not in str(annotation)
    return False


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
    dataclass_fields = (getattr(obj, "__dataclass_fields__", None) or {}) if is_class else {}
    if isinstance(raw, staticmethod):
        member["kind"] = "staticmethod"
        fn, drop = raw.__func__, False
    elif isinstance(raw, classmethod):
        member["kind"] = "classmethod"
        fn, drop = raw.__func__, True
    elif isinstance(raw, property):
        member["kind"] = "property"
        return member
    elif inspect.isfunction(raw) or (inspect.ismethoddescriptor(raw) and callable(raw)):
        # a plain function on a class is an instance method; on a module, a function
        member["kind"] = "function"
        fn, drop = raw, is_class
    elif inspect.isclass(raw):
        member["kind"] = "class"
        fn, drop = raw, False
    else:
        if is_class and (name in dataclass_fields or _annotated_field(obj, name)):
            member["kind"] = "instance attribute"  # a class-level value is only its default
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


# --------------------------------------------------------------------------------------------------
# Comparison (pure): a published member against ours -> the differences a caller would notice.
#
# Each difference is `(what, message)`: `what` names it for an allow-list (`missing`, `kind`,
# `async`, `signature`, `(param): missing|kind|position|required|default`, `(param): extra
# required`), the message says it in words.

POSITIONAL = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")
NOT_A_LITERAL = object()  # a default with no literal repr (a sentinel, a factory) differs from any literal
BY_NAME = ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")
# Reached from the class as well as from an instance, with the same arguments: a caller cannot
# tell these apart.
CLASS_CALLABLE = ("staticmethod", "classmethod")
# Read from an instance; a caller cannot tell these apart either.
INSTANCE_DATA = ("property", "instance attribute", "attribute")


def _kinds_compatible(theirs: str, ours: str) -> bool:
    if theirs == ours:
        return True
    if theirs in CLASS_CALLABLE and ours in CLASS_CALLABLE:
        return True
    # A class-level attribute (an enum member, a constant) is also read from the class itself.
    return theirs in INSTANCE_DATA and ours in INSTANCE_DATA and theirs != "attribute"


def _literal(text: str | None) -> Any:
    import ast

    if text is None:
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _empty_like(value: Any) -> bool:
    """None, '', 0, False, or a container of only such: "nothing given" however it is spelled."""
    if isinstance(value, dict):
        return all(_empty_like(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_empty_like(v) for v in value)
    return not value


def compare_params(theirs: list[dict[str, Any]], ours: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Can every call that binds to `theirs` bind to `ours`, with the same meaning of each name?"""
    out: list[tuple[str, str]] = []
    our_positional = [p for p in ours if p["kind"] in POSITIONAL]
    our_by_name = {p["name"]: p for p in ours if p["kind"] in BY_NAME}
    our_var_positional = next((p for p in ours if p["kind"] == "VAR_POSITIONAL"), None)
    our_var_keyword = next((p for p in ours if p["kind"] == "VAR_KEYWORD"), None)
    matched: set[str] = set()
    # **kwargs binds any name, but that is not "accepted": it may be ignored or rejected later
    swallowed = f" (only its **{our_var_keyword['name']})" if our_var_keyword else ""

    def required(p: dict[str, Any], q: dict[str, Any]) -> None:
        if p["default"] and not q["default"]:
            out.append(
                (f"({p['name']}): required", f"`{p['name']}` is optional in published, required in ours")
            )
        their_value = _literal(p["default_repr"])
        our_value = _literal(q["default_repr"]) if q["default_repr"] is not None else NOT_A_LITERAL
        nothing_both = _empty_like(their_value) and q["default_repr"] is not None and _empty_like(our_value)
        if (
            p["default"]
            and q["default"]
            and p["default_repr"] is not None
            and their_value != our_value
            and not nothing_both
        ):
            shown = q["default_repr"] if q["default_repr"] is not None else "(not a literal)"
            out.append(
                (
                    f"({p['name']}): default",
                    f"`{p['name']}` defaults to {p['default_repr']} in published, {shown} in ours",
                )
            )

    their_positional = [p for p in theirs if p["kind"] in POSITIONAL]
    for index, p in enumerate(their_positional):
        name = p["name"]
        if p["kind"] == "POSITIONAL_ONLY":
            if index < len(our_positional):
                matched.add(our_positional[index]["name"])
                required(p, our_positional[index])
            elif our_var_positional is None:
                out.append(
                    (
                        f"({name}): missing",
                        f"positional parameter {index + 1} (`{name}`) is not accepted by ours",
                    )
                )
            continue
        q = our_by_name.get(name)
        if q is None:
            out.append(
                (f"({name}): missing", f"parameter `{name}` (position {index + 1}) is not in ours{swallowed}")
            )
            continue
        matched.add(name)
        if q["kind"] == "KEYWORD_ONLY":
            out.append(
                (
                    f"({name}): kind",
                    f"`{name}` is positional (position {index + 1}) in published, keyword-only in ours",
                )
            )
        else:
            our_index = our_positional.index(q)
            if our_index != index:
                out.append(
                    (
                        f"({name}): position",
                        f"`{name}` is positional parameter {index + 1} in published, {our_index + 1} in ours",
                    )
                )
        required(p, q)
    for p in theirs:
        name = p["name"]
        if p["kind"] == "KEYWORD_ONLY":
            q = our_by_name.get(name)
            if q is None:
                out.append((f"({name}): missing", f"keyword parameter `{name}` is not in ours{swallowed}"))
                continue
            matched.add(name)
            required(p, q)
        elif p["kind"] == "VAR_POSITIONAL" and our_var_positional is None:
            out.append(
                (
                    f"(*{name}): missing",
                    f"published takes `*{name}`, ours takes no extra positional arguments",
                )
            )
        elif p["kind"] == "VAR_KEYWORD" and our_var_keyword is None:
            out.append(
                (f"(**{name}): missing", f"published takes `**{name}`, ours takes no extra keyword arguments")
            )
    for q in ours:
        if q["kind"] in (*POSITIONAL, "KEYWORD_ONLY") and not q["default"] and q["name"] not in matched:
            out.append(
                (
                    f"({q['name']}): extra required",
                    f"ours requires `{q['name']}`, which published does not take",
                )
            )
    return out


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def compare_member(theirs: dict[str, Any], ours: dict[str, Any]) -> list[tuple[str, str]]:
    """The differences between one published member and ours (both as `describe_member` gives)."""
    if theirs["kind"] == "missing":
        return [("not in published", "the seed documents it, the published release does not have it")]
    if ours["kind"] == "missing":
        return [("missing", f"published has this {theirs['kind']}, ours does not")]
    if not _kinds_compatible(theirs["kind"], ours["kind"]):
        return [("kind", f"{_a(theirs['kind'])} in published, {_a(ours['kind'])} in ours")]
    out: list[tuple[str, str]] = []
    if theirs["async"] != ours["async"]:
        out.append(
            (
                "async",
                f"{theirs['async'] or 'not async'} in published, {ours['async'] or 'not async'} in ours",
            )
        )
    if theirs["params"] is None:
        return out  # not callable, or published itself has no readable signature (a builtin)
    if ours["params"] is None:
        out.append(("signature", f"ours has no readable signature: {ours['signature_error']}"))
        return out
    return out + compare_params(theirs["params"], ours["params"])


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
