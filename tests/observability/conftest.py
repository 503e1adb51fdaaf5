"""The `logged` fixture: modelwire's records from DEBUG, with their structured fields."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from obs_helpers import Captured


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[Captured]:
    """Everything under the "modelwire" logger, from DEBUG."""
    with caplog.at_level(logging.DEBUG, logger="modelwire"):
        yield Captured(caplog)
