"""Inputs: builders, uploads (single and bulk), listing, annotations, deletion, download, export."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from clarifai_helpers import calls, texts
from PIL import Image

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai import ApiClientError, App, Features, Inputs, UserError
from modelwire.clarifai.dataset import ARCHIVE_MIMETYPE, read_archive
from modelwire.emulator import Emulator


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), color).save(buffer, "PNG")
    return buffer.getvalue()


def test_builders_make_the_wire_shapes(app: App) -> None:
    inputs = app.inputs()
    text = inputs.get_text_input("t1", "hello", dataset_id="d1", labels=["greeting"], metadata={"k": 1})
    assert text.data.text.raw == "hello" and list(text.dataset_ids) == ["d1"]
    assert (text.data.concepts[0].id, text.data.concepts[0].value) == ("greeting", 1.0)
    assert text.data.metadata["k"] == 1
    url = inputs.get_input_from_url("u1", image_url="https://example.com/a.jpg", geo_info=[2.35, 48.85])
    assert url.data.image.url.endswith("a.jpg") and url.data.geo.geo_point.latitude == pytest.approx(48.85)
    box = Inputs.get_bbox_proto("i1", "cat", [0.1, 0.2, 0.5, 0.6])
    bb = box.data.regions[0].region_info.bounding_box
    assert (bb.left_col, bb.top_row, bb.right_col, bb.bottom_row) == pytest.approx((0.1, 0.2, 0.5, 0.6))
    mask = Inputs.get_mask_proto("i1", "cat", [[0.1, 0.1], [0.5, 0.1], [0.3, 0.4]])
    assert len(mask.data.regions[0].region_info.polygon.points) == 3
    multimodal = inputs.get_multimodal_input("m1", raw_text="what is it?", image_bytes=png((1, 2, 3)))
    assert multimodal.data.text.raw and multimodal.data.image.base64
    with pytest.raises(UserError, match="at least one of image_url"):
        inputs.get_input_from_url("x")
    with pytest.raises(UserError, match="exactly one of raw_text"):
        inputs.get_multimodal_input("m2", image_url="https://a")  # raised, not returned
    with pytest.raises(UserError, match="bbox"):
        Inputs.get_bbox_proto("i1", "cat", [0.5, 0.2, 0.1, 0.6])
    inputs.close()


def test_uploads_and_listing(app: App, tmp_path: Path) -> None:
    inputs = app.inputs()
    image_file = tmp_path / "red.png"
    image_file.write_bytes(png((200, 0, 0)))
    job = inputs.upload_text("greeting", "hello there", labels=["hi"])
    assert isinstance(job, str) and len(job) == 32
    inputs.upload_from_bytes("blue", image_bytes=png((0, 0, 200)))
    inputs.upload_from_file("red", image_file=str(image_file))
    inputs.upload_from_url("red-by-url", image_url=image_file.as_uri())
    inputs._wait_and_check(job, ["greeting"], 10)
    listed = {i.id: i for i in _all_processed(inputs, 4)}
    assert set(listed) == {"greeting", "blue", "red", "red-by-url"}
    assert [i.id for i in inputs.list_inputs(input_type="text")] == ["greeting"]
    contents = inputs.download_inputs([listed["greeting"], listed["blue"]])
    assert contents[0] == b"hello there" and contents[1] == png((0, 0, 200))
    inputs.delete_inputs([listed["blue"], "red"])
    assert {i.id for i in inputs.list_inputs()} == {"greeting", "red-by-url"}
    with pytest.raises(UserError, match="at most 128"):
        inputs.upload_inputs([inputs.get_text_input(f"x{i}", "x") for i in range(129)])
    inputs.close()


def _all_processed(inputs: Inputs, count: int) -> list[resources_pb2.Input]:
    for _ in range(200):
        items = list(inputs.list_inputs())
        if len(items) >= count and all(i.status.code == 30000 for i in items):
            return items
        import time

        time.sleep(0.05)
    raise AssertionError(f"inputs never all processed: {[(i.id, i.status.code) for i in items]}")


def test_bulk_upload_reports_everything_and_retries_without_duplicates(app: App, emulator: Emulator) -> None:
    inputs = app.inputs()
    batch = [inputs.get_text_input(f"bulk-{i}", t) for i, t in enumerate(texts(300))]
    batch.append(inputs.get_input_from_url("from-the-internet", image_url="https://example.com/cat.jpg"))
    before = calls(emulator, "PostInputs")
    summary = inputs.upload_inputs_bulk(batch, show_progress=False)
    assert len(summary.uploaded) == 300 and set(summary.failed) == {"from-the-internet"}
    assert (
        "loopback" in summary.failed["from-the-internet"] or "file://" in summary.failed["from-the-internet"]
    )
    assert calls(emulator, "PostInputs") - before == 3 + 2  # 128+128+45, then 2 retries of the failure
    again = inputs.upload_inputs_bulk(batch[:300], show_progress=False)  # idempotent by id
    assert sorted(again.uploaded) == sorted(summary.uploaded) and again.ok
    assert sum(1 for _ in inputs.list_inputs(per_page=1000)) == 300
    with pytest.raises(UserError, match="unique"):
        inputs.upload_inputs_bulk([batch[0], batch[0]])
    inputs.close()


def test_annotations(app: App) -> None:
    inputs = app.inputs()
    inputs.upload_from_bytes("street", image_bytes=png((90, 90, 90)))
    _all_processed(inputs, 1)
    failed = inputs.upload_annotations(
        [
            Inputs.get_bbox_proto("street", "car", [0.1, 0.1, 0.4, 0.4]),
            Inputs.get_bbox_proto("ghost", "car", [0, 0, 1, 1]),
        ]
    )
    assert [a.input_id for a in failed] == ["ghost"]
    annotations = [a for a in inputs.list_annotations([resources_pb2.Input(id="street")]) if a.data.regions]
    assert len(annotations) == 1 and annotations[0].data.regions[0].data.concepts[0].name == "car"
    assert "car" in [c.id for c in app.list_concepts()]
    inputs.close()


class Loader:
    task = "visual_classification"

    def __init__(self, items: list[Features]) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Features:
        return self.items[index]


def test_dataset_uploads_status_and_export(app: App, tmp_path: Path) -> None:
    dataset = app.create_dataset("colors")
    loader = Loader([Features(image_bytes=png((i * 40, 0, 0)), labels=["red"], id=f"r{i}") for i in range(4)])
    summary = dataset.upload_dataset(loader, batch_size=2, show_progress=False)
    assert summary.ok and sorted(summary.uploaded) == [f"colors-r{i}" for i in range(4)]
    csv_path = tmp_path / "notes.csv"
    csv_path.write_text('input,concepts\nbuy milk,todo\ncall mom,"todo,family"\n')
    assert dataset.upload_from_csv(str(csv_path), show_progress=False).ok
    folder = tmp_path / "cats"
    folder.mkdir()
    (folder / "one.png").write_bytes(png((1, 200, 1)))
    assert dataset.upload_from_folder(str(tmp_path), "image", labels=True, show_progress=False).uploaded == [
        "one"
    ]
    stats = dataset.get_upload_status(delete_version=True)
    assert stats["INPUT_TYPE"] == {"total": 7, "image": 5, "text": 2}
    assert stats["CONCEPT_ID"] == {"red": 4, "cats": 1, "todo": 2, "family": 1}
    assert stats["version_id"] not in [v.version_id for v in dataset.list_versions()]  # deleted as asked
    out = dataset.export(str(tmp_path / "export.zip"))
    names = zipfile.ZipFile(out).namelist()
    assert "all/image/colors-r0.jpg" in names and sum(n.startswith("all/text/") for n in names) == 2
    dataset.close()


def test_export_is_safe_against_hostile_archives(app: App, tmp_path: Path) -> None:
    dataset = app.create_dataset("hostile")
    batch = resources_pb2.InputBatch()
    batch.inputs.add(id="../../escape", data=resources_pb2.Data(text=resources_pb2.Text(raw="boo")))
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("mimetype", ARCHIVE_MIMETYPE)
        out.writestr("../../../batch-0", batch.SerializeToString())
    target = tmp_path / "out"
    dataset.export(str(target), local_archive_path=str(archive))
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".txt"]
    assert len(written) == 1 and written[0].is_relative_to(target.resolve())
    assert not (tmp_path.parent / "escape.txt").exists()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ApiClientError, match="not a zip"):
        read_archive(bad.read_bytes())
    with zipfile.ZipFile(bad, "w") as out:
        out.writestr("mimetype", b"text/plain")
    with pytest.raises(ApiClientError, match="mimetype"):
        read_archive(bad.read_bytes())
    dataset.close()


class DetectionLoader(Loader):
    task = "visual_detection"


class SegmentationLoader(Loader):
    task = "visual_segmentation"


class PaintingLoader(Loader):
    task = "painting"


def test_detection_and_segmentation_loaders_upload_annotations(app: App) -> None:
    dataset = app.create_dataset("shapes")
    boxes = DetectionLoader(
        [
            Features(
                image_bytes=png((10, 10, 10)),
                labels=["car", "tree"],
                bboxes=[[0, 0, 0.5, 0.5], [0.5, 0.5, 1, 1]],
                id="b",
            )
        ]
    )
    masks = SegmentationLoader(
        [
            Features(
                image_bytes=png((20, 20, 20)),
                labels=["lake"],
                polygons=[[[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]],
                id="m",
            )
        ]
    )
    assert dataset.upload_dataset(boxes, show_progress=False).ok
    assert dataset.upload_dataset(masks, show_progress=False).ok
    inputs = app.inputs()
    regions = [r for a in inputs.list_annotations() for r in a.data.regions]
    assert sorted(r.data.concepts[0].name for r in regions) == ["car", "lake", "tree"]
    assert sum(1 for r in regions if r.region_info.HasField("polygon")) == 1
    with pytest.raises(UserError, match="one label per box"):
        dataset.upload_dataset(
            DetectionLoader([Features(image_bytes=png((1, 1, 1)), labels=["a"], bboxes=[])])
        )
    with pytest.raises(UserError, match="task must be one of"):
        dataset.upload_dataset(PaintingLoader([]))
    inputs.close()
    dataset.close()


def test_folder_and_csv_builders(app: App, tmp_path: Path) -> None:
    inputs = app.inputs()
    (tmp_path / "greetings").mkdir()
    (tmp_path / "greetings" / "hello world.txt").write_text("hello world")
    built = inputs.get_text_inputs_from_folder(str(tmp_path), labels=True)
    assert [(b.id, b.data.text.raw, b.data.concepts[0].name) for b in built] == [
        ("hello-world", "hello world", "greetings")
    ]
    image = tmp_path / "pic.png"
    image.write_bytes(png((5, 6, 7)))
    csv_path = tmp_path / "files.csv"
    csv_path.write_text(f'input,concepts,metadata,inputid\n{image},dot,"{{""k"": 2}}",pic-1\n')
    (row,) = inputs.get_inputs_from_csv(str(csv_path), input_type="image", csv_type="file_path")
    assert row.id == "pic-1" and row.data.image.base64 == png((5, 6, 7)) and row.data.metadata["k"] == 2
    with pytest.raises(UserError, match="raw"):
        inputs.get_inputs_from_csv(str(csv_path), input_type="image", csv_type="raw")
    with pytest.raises(UserError, match="not a directory"):
        inputs.get_text_inputs_from_folder(str(tmp_path / "missing"))
    inputs.close()


def test_making_inputs_does_not_reset_logging(app: App) -> None:
    import logging

    logger = logging.getLogger("modelwire.clarifai")
    logger.setLevel(logging.ERROR)
    try:
        app.inputs().close()
        assert logger.level == logging.ERROR
        explicit = Inputs(user_id=app.user_id, app_id=app.id, logger_level="DEBUG", _connection=app._conn)
        explicit.close()
        assert logger.level == logging.DEBUG  # an explicit level still applies
    finally:
        logger.setLevel(logging.NOTSET)
