"""The published SDKs' venvs, built by scripts/compat.py (once, in a cache outside the repo)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.harness.common import ROOT, Unavailable


def load_compat() -> ModuleType:
    """scripts/compat.py, imported by path (it is a script, not a package)."""
    name = "modelwire_bench_compat"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "compat.py")
        if spec is None or spec.loader is None:
            raise Unavailable(f"cannot load {ROOT / 'scripts' / 'compat.py'}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def ensure_venv(compat: ModuleType, target: Any) -> Path:
    try:
        return Path(compat.ensure_venv(target))
    except compat.CompatError as exc:
        raise Unavailable(f"the published SDK's venv could not be built: {exc}") from exc
    except OSError as exc:
        raise Unavailable(f"the published SDK's venv could not be built: {exc!r}") from exc


def published_python(target_name: str) -> Path:
    """The python of the venv scripts/compat.py keeps for `target_name`, built on first use."""
    compat = load_compat()
    target = next((t for t in compat.TARGETS if t.name == target_name), None)
    if target is None:
        raise Unavailable(f"scripts/compat.py has no target {target_name!r}")
    return ensure_venv(compat, target)


def bench_python(name: str, requirement: str) -> Path:
    """The python of a bench-only venv `name` with `requirement` (a published SDK whose protos
    `make compat` does not check), built on first use by scripts/compat.py's ensure_venv, in the
    same cache outside the repo (`${MODELWIRE_CACHE:-~/.cache/modelwire}/venvs/<name>`)."""
    compat = load_compat()
    if any(t.name == name for t in compat.TARGETS):
        raise Unavailable(f"{name!r} is a compat target's venv: use published_python({name!r})")
    return ensure_venv(compat, compat.Target(name=name, requirement=requirement, imports=(), package=""))
