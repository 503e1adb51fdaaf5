"""Every public class, function, method and property of modelwire's API has a docstring.

The API reference (`make docs`, mkdocstrings) is generated from these docstrings, so a public name
without one is a blank entry on the site. The public surface walked here is:

* every name in `__all__` of the public modules below that is a class or a function (constants
  such as `NO_RETRY` and type aliases cannot carry a docstring of their own);
* every public method, classmethod, staticmethod and property of each of those classes, including
  those inherited from modelwire base classes (a method a user can call is public wherever it is
  defined); names starting with `_` (dunders included) and what comes from `object`, builtin types
  (`Exception`, `str`, `int`, ...), `enum` or `typing` are not walked;
* the Decthings namespaces (`client.model`, `client.dataset`, ...): the classes in the clients'
  `NAMESPACES` maps, generated from `protos/decthings` by scripts/generate.py, whose 119 methods
  are the Decthings API. They are walked like any other class.

Not walked: the generated protobuf message modules (`modelwire._gen`, `modelwire.clarifai.api`,
`modelwire.clarifai.types`), whose classes are documented by their .proto files, and the
TypedDicts of `modelwire.decthings.types` (the params and results: data shapes, not behaviour).

A dataclass or NamedTuple without a docstring gets one generated from its fields ("Job(uuid: str,
...)"); that counts as missing. A method that overrides a documented one must say what it does
too: mkdocstrings shows a method's own docstring, not its parent's.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modelwire.migrate import render_markdown_table

# The public modules: what `__all__` of each exports is the API the reference documents.
PUBLIC_MODULES = (
    "modelwire",
    "modelwire.clavata",
    "modelwire.clarifai",
    "modelwire.clarifai.legacy",
    "modelwire.decthings",
    "modelwire.emulator",
    "modelwire.errors",
    "modelwire.migrate",
)


def _own_doc(obj: Any) -> str | None:
    """The docstring written for `obj` itself (not one inherited or generated)."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, property):
        return obj.__doc__ or (obj.fget.__doc__ if obj.fget is not None else None)
    if isinstance(obj, functools.cached_property):
        return obj.__doc__ or obj.func.__doc__
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")
        if not isinstance(doc, str):
            return None
        generated = dataclasses.is_dataclass(obj) or (issubclass(obj, tuple) and hasattr(obj, "_fields"))
        if generated and doc.startswith(f"{obj.__name__}("):
            return None
        return doc
    return getattr(obj, "__doc__", None)


def _is_member(value: Any) -> bool:
    return isinstance(value, (staticmethod, classmethod, property, functools.cached_property)) or (
        inspect.isfunction(value)
    )


def _ours(klass: type) -> bool:
    """Classes whose members we document: modelwire's own, not object/builtins/enum/typing."""
    return klass.__module__.split(".")[0] == "modelwire"


def _decthings_namespaces() -> dict[type, str]:
    """{namespace class: its public name}, e.g. `modelwire.decthings.DecthingsClient.model`."""
    from modelwire.decthings import DecthingsClient, DecthingsClientSync

    classes: dict[type, str] = {}
    for client in (DecthingsClient, DecthingsClientSync):
        for attribute, cls in getattr(client, "NAMESPACES", {}).items():
            classes[cls] = f"modelwire.decthings.{client.__name__}.{attribute}"
    assert len(classes) == 20, "expected 10 namespaces on each Decthings client"
    return classes


def _public_surface() -> Iterator[tuple[str, Any]]:
    """(qualified name, object) of every public class, function and member, each once."""
    classes: dict[type, str] = {}
    seen: set[int] = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        yield module_name, module
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                # an alias (CreateJobResponse = Job) is reported under the class's own name
                held = classes.get(obj)
                if held is None or (name == obj.__name__ and not held.endswith(f".{name}")):
                    classes[obj] = f"{module_name}.{name}"
            elif inspect.isfunction(obj) and id(obj) not in seen:
                seen.add(id(obj))
                yield f"{module_name}.{name}", obj
    for namespace, public_name in _decthings_namespaces().items():
        classes.setdefault(namespace, public_name)
    for cls, public_name in classes.items():
        if _ours(cls) and id(cls) not in seen:
            seen.add(id(cls))
            yield public_name, cls
        names: set[str] = set()
        for klass in cls.__mro__:
            if not _ours(klass):
                continue
            for name, value in vars(klass).items():
                if name.startswith("_") or name in names or not _is_member(value):
                    continue
                names.add(name)  # the first in the MRO is the one a caller gets
                key = id(value)
                if key in seen:
                    continue
                seen.add(key)
                where = "" if klass is cls else f" (defined on {klass.__module__}.{klass.__qualname__})"
                yield f"{public_name}.{name}{where}", value


def test_the_surface_is_walked() -> None:
    """The walk reaches what the reference documents (guards against an empty or broken walk)."""
    names = {name for name, _ in _public_surface()}
    for expected in (
        "modelwire.clavata.ClavataClient",
        "modelwire.clavata.ClavataClient.evaluate",
        "modelwire.clavata.AsyncClavataClient.list_jobs",
        "modelwire.clarifai.App",
        "modelwire.clarifai.Inputs.upload_inputs",
        "modelwire.clarifai.legacy.ClarifaiApp",
        "modelwire.decthings.DecthingsTensor",
        "modelwire.emulator.Emulator",
        "modelwire.migrate.rewrite_imports",
        "modelwire.ApiError",
    ):
        assert expected in names, expected
    assert sum(name.startswith("modelwire.decthings.DecthingsClient.model.") for name in names) > 20, (
        "Decthings namespaces not walked"
    )
    assert len(names) > 600


def test_every_public_name_has_a_docstring() -> None:
    missing = sorted(name for name, obj in _public_surface() if not (_own_doc(obj) or "").strip())
    assert not missing, f"{len(missing)} public names without a docstring:\n  " + "\n  ".join(missing)


def test_the_migration_page_holds_the_current_import_table() -> None:
    """docs/migration.md shows the import rewrite table rendered from `modelwire.migrate.REWRITES`
    (paste `render_markdown_table()` between its migrate-table markers when the table changes)."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "migration.md").read_text(encoding="utf-8")
    start = page.index("<!-- migrate-table")
    start = page.index("-->", start) + len("-->\n")
    end = page.index("<!-- /migrate-table -->")
    assert page[start:end] == render_markdown_table(), "docs/migration.md: paste render_markdown_table()"
