"""Drop-in for clarifai 12.5.0 datasets: `Dataset()` exports a local archive without ids, and
`get_upload_status(pre_upload=True)` gives the stats that `pre_upload_stats=` takes back."""

from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from dropin_helpers import png

from modelwire._core.errors import ModelwireError
from modelwire.clarifai import App, Features, UserError
from modelwire.clarifai._download import fetch
from modelwire.clarifai.dataset import Dataset
from modelwire.emulator import Emulator


@dataclass
class Loader:
    items: list[Features]
    task: str = "visual_detection"

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Features:
        return self.items[index]


def _boxes(prefix: str, count: int) -> Loader:
    return Loader(
        [
            Features(
                image_bytes=png((i * 30, 90, 10)),
                labels=["box"],
                bboxes=[[0.1, 0.1, 0.6, 0.6]],
                id=f"{prefix}{i}",
            )
            for i in range(count)
        ]
    )


def test_a_dataset_without_ids_exports_a_local_archive(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_url: str, api_key: str
) -> None:
    source = app.create_dataset("to-archive")
    inputs = app.inputs()
    inputs.upload_text("note", "a note to export", dataset_id=source.id)
    inputs.upload_from_bytes("pic", image_bytes=png((200, 10, 10)), dataset_id=source.id)
    archive = source.export(str(tmp_path / "from-api.zip"))
    # The archive the API serves, saved once, is what `local_archive_path` reads offline.
    local = tmp_path / "archive.zip"
    local.write_bytes(fetch(source.archive_zip(), source._conn, source="api"))
    monkeypatch.delenv("CLARIFAI_USER_ID", raising=False)
    monkeypatch.setenv("CLARIFAI_PAT", api_key)
    monkeypatch.setenv("CLARIFAI_API_BASE", base_url)

    out = Dataset().export(save_path=str(tmp_path / "out"), local_archive_path=str(local))
    assert (out / "all" / "text" / "note.txt").read_text() == "a note to export"
    assert (out / "all" / "image" / "pic.jpg").read_bytes() == png((200, 10, 10))
    assert sorted(zipfile.ZipFile(archive).namelist()) == ["all/image/pic.jpg", "all/text/note.txt"]
    inputs.close()
    source.close()


def test_a_dataset_without_ids_says_what_is_missing_before_sending(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_url: str, api_key: str
) -> None:
    monkeypatch.delenv("CLARIFAI_USER_ID", raising=False)
    dataset = Dataset(base_url=base_url, pat=api_key)
    before = len(emulator.calls.records("PostDatasetVersions"))
    with pytest.raises(UserError, match="dataset_id, app_id, user_id"):
        dataset.create_version()
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text("input\nhello\n")
    with pytest.raises(UserError, match="upload_from_csv needs dataset_id"):
        dataset.upload_from_csv(str(csv_path))  # would land outside any dataset
    with pytest.raises(UserError, match="upload_dataset needs"):
        dataset.upload_dataset(_boxes("x", 1))
    assert len(emulator.calls.records("PostDatasetVersions")) == before
    dataset.close()


def test_pre_upload_stats_round_trip_as_published(app: App) -> None:
    dataset = app.create_dataset("stats")
    assert dataset.upload_dataset(_boxes("a", 2), show_progress=False).ok
    pre_upload_stats = dataset.get_upload_status(pre_upload=True, delete_version=True)
    # Inputs by type, and "total" (all of them), as the API's INPUT_TYPE groups give them.
    assert pre_upload_stats == ({"image": 2, "total": 2}, {"concepts": 0, "bboxes": 2, "polygons": 0})
    assert dataset.upload_dataset(_boxes("b", 3), show_progress=False).ok
    status = dataset.get_upload_status(_boxes("b", 3), delete_version=True, pre_upload_stats=pre_upload_stats)
    assert status["inputs"] == {"image": 5, "total": 5} and status["annotations"]["bboxes"] == 5
    assert status["uploaded_inputs"] == {"image": 3, "total": 3}  # what the second upload added
    assert status["uploaded_annotations"] == {"concepts": 0, "bboxes": 3, "polygons": 0}
    assert status["expected_inputs"] == 3
    assert list(dataset.list_versions()) == []  # every status version was deleted as asked
    with pytest.raises(UserError, match="pre_upload_stats must be"):
        dataset.get_upload_status(pre_upload_stats={"image": 1})  # type: ignore[arg-type]
    dataset.close()


def test_upload_dataset_with_status_measures_only_its_own_upload(
    app: App, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    dataset = app.create_dataset("measured")
    dataset.upload_dataset(_boxes("old", 2), show_progress=False)
    before = len(emulator.calls.records("PostDatasetVersions"))
    with caplog.at_level("INFO", logger="modelwire.clarifai"):
        dataset.upload_dataset(_boxes("new", 1), get_upload_status=True, show_progress=False)
    assert len(emulator.calls.records("PostDatasetVersions")) == before + 2  # before and after
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("upload status")]
    assert "'uploaded_inputs': {'total': 1, 'image': 1}" in line
    assert list(dataset.list_versions()) == []
    dataset.close()


def test_pre_upload_stats_of_an_empty_dataset_do_not_wait(app: App) -> None:
    dataset = app.create_dataset("empty")
    started = time.monotonic()
    assert dataset.get_upload_status(pre_upload=True, timeout=30) == (
        {"total": 0},
        {"concepts": 0, "bboxes": 0, "polygons": 0},
    )
    assert time.monotonic() - started < 5  # a ready version's empty metrics are the answer
    dataset.close()


def test_upload_status_errors_are_modelwire_errors(app: App) -> None:
    dataset = app.create_dataset("checked")
    with pytest.raises(ModelwireError, match="pre_upload_stats"):
        dataset.get_upload_status(pre_upload_stats=({"image": "2"}, {}))  # type: ignore[dict-item]
    dataset.close()
