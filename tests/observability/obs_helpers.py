"""What the observability tests read: the records modelwire logged, by event."""

from __future__ import annotations

from typing import Any

import pytest


class Captured:
    """The modelwire records of a test, with their structured fields (`record.modelwire`)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog

    def fields(self, event: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        found = []
        for record in self._caplog.records:
            fields = getattr(record, "modelwire", None)
            if fields is None or (event is not None and fields["event"] != event):
                continue
            if method is not None and not fields["method"].endswith(method):
                continue
            found.append(
                {**fields, "logger": record.name, "level": record.levelno, "text": record.getMessage()}
            )
        return found

    def clear(self) -> None:
        self._caplog.clear()
