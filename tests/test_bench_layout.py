"""The benchmark's layout: bench/scenarios/ holds one module per scenario, named as the scenario, which
registers itself (`SCENARIO = Scenario(...)`); the registry (bench.scenarios.discover) finds every one
of them, in the order the bench has always printed them, and nothing else; bench/run.py offers exactly
those; and adding a scenario is one new file. Checked against the files on disk, not the registry's
own view of them."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS_DIR = ROOT / "bench" / "scenarios"
# the order of a full run's tables and of --help (the order bench/run.py had them in)
ORDER = [
    "clavata_stream",
    "clavata_stream_replay",
    "clarifai_upload_list",
    "clarifai_predict",
    "decthings_add_entries",
    "decthings_evaluate",
]


@pytest.fixture
def scenarios(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """bench.scenarios, imported from this checkout; the bench modules are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(ROOT))
    before = set(sys.modules)
    yield importlib.import_module("bench.scenarios")
    for name in set(sys.modules) - before:
        if name == "bench" or name.startswith("bench."):
            del sys.modules[name]


def _scenario_files() -> list[str]:
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.py") if not p.name.startswith("_"))


def test_every_scenario_module_is_registered_under_its_name(scenarios: ModuleType) -> None:
    registry = scenarios.discover()
    files = _scenario_files()
    assert set(ORDER) <= set(files)  # the six scenarios are still one module each
    assert sorted(registry) == files
    for name, scenario in registry.items():
        module = importlib.import_module(f"bench.scenarios.{name}")
        assert module.SCENARIO is scenario
        assert scenario.name == name
        assert Path(module.__file__ or "").resolve() == SCENARIOS_DIR / f"{name}.py"
    shared = [p.stem for p in SCENARIOS_DIR.glob("_*.py") if p.name != "__init__.py"]
    assert shared  # what one provider's scenarios share, e.g. _clavata.py
    for stem in shared:
        assert not hasattr(importlib.import_module(f"bench.scenarios.{stem}"), "SCENARIO"), stem


def test_scenarios_keep_their_order(scenarios: ModuleType) -> None:
    names = list(scenarios.discover())
    assert [n for n in names if n in ORDER] == ORDER


def test_run_py_offers_every_scenario() -> None:
    cmd = [sys.executable, str(ROOT / "bench" / "run.py"), "--help"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"--scenario \{([^}]*)\}", proc.stdout)
    assert match is not None, proc.stdout
    assert sorted(match.group(1).split(",")) == _scenario_files()


@pytest.fixture
def add_module(
    scenarios: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, str], None]:
    """Adds a module to bench.scenarios, as a new file in bench/scenarios/ would (in a directory of the
    package's path, so the checkout is left alone)."""
    monkeypatch.setattr(scenarios, "__path__", [*scenarios.__path__, str(tmp_path)])

    def add(name: str, body: str) -> None:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))

    return add


def _registering(name: str) -> str:
    """A scenario module's text that registers scenario `name`."""
    return f"""
        from bench.harness.plan import Scenario

        def plan(ctx):
            raise NotImplementedError

        SCENARIO = Scenario({name!r}, "an added scenario", plan)
        """


def test_a_new_scenario_is_one_file(scenarios: ModuleType, add_module: Callable[[str, str], None]) -> None:
    add_module("zz_added", _registering("zz_added"))
    add_module("_zz_shared", "HELPER = 1\n")  # shared modules register nothing
    registry = scenarios.discover()
    assert list(registry)[-1] == "zz_added"  # the default order runs it last
    assert [n for n in registry if n in ORDER] == ORDER
    assert registry["zz_added"].title == "an added scenario"


def test_a_scenario_module_must_register_under_its_own_name(
    scenarios: ModuleType, add_module: Callable[[str, str], None]
) -> None:
    add_module("zz_misnamed", _registering("zz_other"))
    with pytest.raises(ValueError, match="zz_other"):
        scenarios.discover()


def test_a_scenario_module_must_define_its_scenario(
    scenarios: ModuleType, add_module: Callable[[str, str], None]
) -> None:
    add_module("zz_unregistered", "PLAN = None\n")
    with pytest.raises(TypeError, match="zz_unregistered"):
        scenarios.discover()


def test_a_scenario_has_a_plan_or_a_measure(scenarios: ModuleType) -> None:
    from bench.harness.plan import Scenario

    with pytest.raises(ValueError, match="one of the two"):
        Scenario("neither", "no way to run it")
    with pytest.raises(ValueError, match="one of the two"):
        Scenario("both", "two ways", plan=lambda ctx: None, measure=lambda ctx, rounds: None)  # type: ignore[arg-type,return-value]
