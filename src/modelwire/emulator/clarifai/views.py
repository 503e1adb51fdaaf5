"""Inputs as responses return them: stored proto + dataset membership + hosted content URLs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.emulator.clarifai.content import Hosting
from modelwire.emulator.clarifai.records import Owner, Records


class InputViews:
    def __init__(self, records: Records, hosting: Hosting) -> None:
        self._records = records
        self._hosting = hosting

    def rows(self, owner: Owner, ids: Sequence[str]) -> dict[str, Any]:
        """Input rows by id (absent ids are missing from the result)."""
        return {row["id"]: row for row in self._records.rows_in("clarifai_inputs", owner, "id", ids)}

    def dataset_ids(self, owner: Owner, ids: Sequence[str]) -> dict[str, list[str]]:
        member: dict[str, list[str]] = defaultdict(list)
        rows = self._records.rows_in("clarifai_dataset_inputs", owner, "id", ids, "id, dataset_id")
        for row in sorted(rows, key=lambda r: r["dataset_id"]):
            member[row["id"]].append(row["dataset_id"])
        return member

    def render(self, owner: Owner, rows: Sequence[Any]) -> list[resources_pb2.Input]:
        """Response form of stored input rows, in the given order."""
        member = self.dataset_ids(owner, [r["id"] for r in rows])
        result = []
        for row in rows:
            item = resources_pb2.Input.FromString(row["proto"])
            item.dataset_ids[:] = member.get(row["id"], [])
            self._hosting.render(item.data, row["kind"], row["content_sha"])
            result.append(item)
        return result
