"""The benchmark's scenarios: one module each, named as the scenario (`--scenario NAME`, the results
file NAME.json), which registers it by defining `SCENARIO = Scenario(name=NAME, ...)`. Modules whose
name starts with `_` hold what several scenarios share (e.g. _clavata.py, a provider's contenders)
and register nothing.

Only the standard library and bench are imported at module level, here and in every
scenario module: the published SDKs' child processes import the modules of their drivers, in venvs
without modelwire.
"""

from __future__ import annotations

import importlib
import pkgutil

from bench.harness.plan import Scenario


def discover() -> dict[str, Scenario]:
    """Every scenario module's SCENARIO, by name, in their `order` (then by name)."""
    found: list[Scenario] = []
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        scenario = getattr(module, "SCENARIO", None)
        if not isinstance(scenario, Scenario):
            raise TypeError(f"{module.__name__} defines no SCENARIO = Scenario(...)")
        if scenario.name != module_info.name:
            raise ValueError(
                f"{module.__name__} registers scenario {scenario.name!r}: a scenario's module is named as it"
            )
        found.append(scenario)
    return {s.name: s for s in sorted(found, key=lambda s: (s.order, s.name))}
