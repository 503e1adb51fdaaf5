"""Slow tests (a real local Ray cluster) run only when selected: `pytest -m slow` (`make test-ray`).

The default run skips them, so `make test` stays fast and needs neither Ray nor pyarrow."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "slow" in (config.getoption("markexpr", "") or ""):
        return
    skip = pytest.mark.skip(
        reason="slow (starts a local Ray cluster): run with `make test-ray` (pytest -m slow)"
    )
    for item in items:
        if "slow" in item.keywords and item.path.is_relative_to(config.rootpath / "tests" / "integrations"):
            item.add_marker(skip)
