"""Bulk uploads account for every input id in every outcome, and a rerun completes the rest.

Faults are injected into the real emulator mid-upload; the app is then read back to check that
nothing was lost, nothing duplicated, and the summary told the truth.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from PIL import Image

from modelwire._core.errors import ModelwireError, UnavailableError
from modelwire.clarifai import App, Features, Inputs
from modelwire.clarifai.errors import ApiClientError, UserError
from modelwire.clarifai.inputs import UploadSummary
from modelwire.emulator import Emulator


def _texts(inputs: Inputs, count: int, prefix: str = "t") -> list:  # type: ignore[type-arg]
    return [inputs.get_text_input(f"{prefix}-{n:05d}", f"note number {n}") for n in range(count)]


def _stored_ids(inputs: Inputs) -> list[str]:
    return [i.id for i in inputs.list_inputs(per_page=1000)]


@pytest.fixture
def fail_after(emulator: Emulator) -> Iterator[Callable[[str, int, grpc.StatusCode, int], None]]:
    """Inject `times` faults into `method` once it has been called `calls` more times."""
    watchers: list[threading.Thread] = []
    stop = threading.Event()

    def arm(method: str, calls: int, code: grpc.StatusCode, times: int) -> None:
        target = len(emulator.calls.records(method)) + calls

        def watch() -> None:
            while not stop.is_set():
                if len(emulator.calls.records(method)) >= target:
                    emulator.faults.add(method, code, times=times, message="injected outage")
                    return
                time.sleep(0.002)

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        watchers.append(thread)

    yield arm
    stop.set()
    for thread in watchers:
        thread.join(5)


def _check_accounts(summary: UploadSummary, ids: list[str]) -> None:
    keys = summary.uploaded + list(summary.failed) + list(summary.unknown)
    assert sorted(keys) == sorted(ids), "every id accounted for exactly once"


def test_a_failed_batch_stops_the_upload_and_says_what_landed(
    app: App, emulator: Emulator, fail_after: Callable[..., None]
) -> None:
    inputs = app.inputs()
    items = _texts(inputs, 640)  # 5 batches of 128
    ids = [i.id for i in items]
    fail_after("PostInputs", 2, grpc.StatusCode.UNAVAILABLE, 3)
    with pytest.raises(UnavailableError) as caught:
        inputs.upload_inputs_bulk(items, max_workers=1, show_progress=False)
    summary = caught.value.summary
    assert isinstance(summary, UploadSummary)
    _check_accounts(summary, ids)
    assert len(summary.uploaded) == 256
    if hasattr(caught.value, "add_note"):  # Python >= 3.11: the traceback says what landed
        assert "256 uploaded" in caught.value.__notes__[0] and "err.summary" in caught.value.__notes__[0]
    stored = set(_stored_ids(inputs))
    assert set(summary.uploaded) <= stored
    # The failed batch was refused by the server: in doubt (UNAVAILABLE on a write), never "uploaded".
    assert len(summary.unknown) + len(summary.failed) == 384
    assert all(r.startswith("not sent") for k, r in summary.failed.items() if k not in summary.unknown)

    # A rerun with the same inputs completes the rest and duplicates nothing.
    emulator.faults.clear()
    again = inputs.upload_inputs_bulk(items, max_workers=2, show_progress=False)
    assert again.ok and sorted(again.uploaded) == sorted(ids)
    stored_ids = _stored_ids(inputs)
    assert sorted(stored_ids) == sorted(ids)


def test_an_unreadable_add_job_does_not_fail_an_upload_that_landed(app: App, emulator: Emulator) -> None:
    inputs = app.inputs()
    items = _texts(inputs, 20)
    emulator.faults.add("GetInputsAddJob", grpc.StatusCode.INTERNAL, times=1, message="job store hiccup")
    summary = inputs.upload_inputs_bulk(items, show_progress=False)
    assert summary.ok and sorted(summary.uploaded) == sorted(i.id for i in items)
    assert sorted(_stored_ids(inputs)) == sorted(i.id for i in items)


def test_an_error_after_the_inputs_landed_keeps_them_uploaded(app: App, emulator: Emulator) -> None:
    inputs = app.inputs()
    items = _texts(inputs, 10)
    # The add-job and then the inputs themselves cannot be read: sent and accepted, state unknown.
    emulator.faults.add("GetInputsAddJob", grpc.StatusCode.INTERNAL, times=1)
    emulator.faults.add("ListInputs", grpc.StatusCode.INTERNAL, times=1)
    with pytest.raises(ModelwireError) as caught:
        inputs.upload_inputs_bulk(items, show_progress=False)
    summary = caught.value.summary
    assert summary is not None and not summary.uploaded and not summary.failed
    assert sorted(summary.unknown) == sorted(i.id for i in items)
    again = inputs.upload_inputs_bulk(items, show_progress=False)
    assert again.ok and len(_stored_ids(inputs)) == 10


@pytest.mark.parametrize(
    ("bad", "message"),
    [("just a string", "list of Input messages"), ([b"bytes"], "Input messages"), (42, "list of Input")],
)
def test_bulk_uploads_reject_what_is_not_inputs(app: App, bad: object, message: str) -> None:
    with pytest.raises(UserError, match=message):
        app.inputs().upload_inputs_bulk(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("option", "value"), [("max_workers", 0), ("max_workers", "4"), ("timeout", -1)])
def test_bulk_upload_options_are_checked(app: App, option: str, value: object) -> None:
    inputs = app.inputs()
    with pytest.raises(ModelwireError, match=option):
        inputs.upload_inputs_bulk(_texts(inputs, 1), **{option: value})  # type: ignore[arg-type]


def test_upload_text_with_a_rejected_id_raises_instead_of_returning_a_job(app: App) -> None:
    inputs = app.inputs()
    inputs.upload_text("taken", "first")
    with pytest.raises(ApiClientError, match="rejected") as caught:
        inputs.upload_text("taken", "second")  # the id exists: the API refuses the input
    summary = caught.value.summary
    assert summary is not None and list(summary.failed) == ["taken"] and not summary.uploaded


def test_csv_problems_are_user_errors(app: App, tmp_path: Path) -> None:
    dataset = app.create_dataset("csv-checks")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("input\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(UserError, match="not UTF-8"):
        dataset.upload_from_csv(str(latin), input_type="text", csv_type="raw")
    huge = tmp_path / "huge.csv"
    huge.write_text('input\n"' + "x" * 200_000 + '"\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"huge.csv:\d+: not a valid CSV row"):
        dataset.upload_from_csv(str(huge), input_type="text", csv_type="raw")
    geo = tmp_path / "geo.csv"
    geo.write_text("input,geopoints\nhello,north\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"geo\.csv:2: geopoints"):
        dataset.upload_from_csv(str(geo), input_type="text", csv_type="raw")


def test_csv_rows_without_ids_get_the_same_ids_on_a_rerun(app: App, tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("input\nfirst note\nsecond note\n", encoding="utf-8")
    dataset = app.create_dataset("csv-rerun")
    first = dataset.upload_from_csv(str(path), input_type="text", csv_type="raw", labels=False)
    second = dataset.upload_from_csv(str(path), input_type="text", csv_type="raw", labels=False)
    assert sorted(first.uploaded) == sorted(second.uploaded) and second.ok
    assert len(_stored_ids(app.inputs())) == 2


class _Boxes:
    """A detection loader of `count` images with one box each (the ClarifaiDataLoader protocol)."""

    task = "visual_detection"

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> Features:
        image = io.BytesIO()
        Image.new("RGB", (8, 8), (index, 9, 9)).save(image, "PNG")
        return Features(
            image_bytes=image.getvalue(), labels=["box"], bboxes=[[0, 0, 0.5, 0.5]], id=f"i{index}"
        )


def test_a_dataset_upload_that_stops_says_what_landed(app: App, emulator: Emulator) -> None:
    dataset = app.create_dataset("boxes")
    emulator.faults.add("PostInputs", grpc.StatusCode.UNAVAILABLE, times=1)  # one batch is refused
    with pytest.raises(UnavailableError) as caught:
        dataset.upload_dataset(_Boxes(6), batch_size=2, show_progress=False)
    summary = caught.value.summary
    assert summary is not None
    _check_accounts(summary, [f"boxes-i{n}" for n in range(6)] + [f"annotation:boxes-i{n}" for n in range(6)])
    assert set(summary.uploaded) <= set(_stored_ids(app.inputs()))
    assert summary.unknown, "the batch refused with UNAVAILABLE is in doubt"
    emulator.faults.clear()
    again = dataset.upload_dataset(_Boxes(6), batch_size=2, show_progress=False)
    assert sorted(again.uploaded) == [f"boxes-i{n}" for n in range(6)]
    assert len(_stored_ids(app.inputs())) == 6


def test_a_dataset_upload_whose_annotations_fail_keeps_its_summary(app: App, emulator: Emulator) -> None:
    dataset = app.create_dataset("boxes-annotations")
    emulator.faults.add("PostAnnotations", grpc.StatusCode.INTERNAL, times=1, message="annotation store down")
    with pytest.raises(ModelwireError) as caught:
        dataset.upload_dataset(_Boxes(3), show_progress=False)
    summary = caught.value.summary
    assert summary is not None and sorted(summary.uploaded) == [f"boxes-annotations-i{n}" for n in range(3)]
    assert sorted(summary.failed) == [f"annotation:boxes-annotations-i{n}" for n in range(3)]
