"""app.inputs: adding images every way, reading, labels and metadata, deleting, and outputs."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from clarifai_helpers import calls
from legacy_helpers import BLUE, GREEN, RED, b64png, legacy_fixture, png, png_file

from modelwire.clarifai.legacy import (
    ApiError,
    ApiStatus,
    BoundingBox,
    ClarifaiApp,
    Concept,
    Geo,
    GeoLimit,
    GeoPoint,
    Image,
    InputCounts,
    Region,
    RegionInfo,
    UserError,
    Video,
)
from modelwire.emulator import Emulator

legacy = legacy_fixture()


def test_create_image_every_way(legacy: ClarifaiApp, tmp_path: Path) -> None:
    red = png_file(tmp_path, "red", RED)
    from_url = legacy.inputs.create_image_from_url(
        red.as_uri(),
        image_id="from-url",
        concepts=["red", "warm"],
        not_concepts=["blue"],
        metadata={"kind": "swatch", "nested": {"level": 2}},
        geo=Geo(geo_point=GeoPoint(2.35, 48.85)),
    )
    assert isinstance(from_url, Image) and from_url.input_id == "from-url" and from_url.url == red.as_uri()
    assert (from_url.concepts, from_url.not_concepts) == (["red", "warm"], ["blue"])
    assert from_url.status is not None and from_url.status.code in (30000, 30001, 30003)
    from_file = legacy.inputs.create_image_from_filename(str(red), image_id="from-file", concepts=["red"])
    from_bytes = legacy.inputs.create_image_from_bytes(png(BLUE), image_id="from-bytes")
    from_b64 = legacy.inputs.create_image_from_base64(b64png(GREEN), image_id="from-b64")
    created = legacy.inputs.create_image(Image(file_obj=io.BytesIO(png(RED, 24)), image_id="from-obj"))
    assert [i.input_id for i in (from_file, from_bytes, from_b64, created)] == [
        "from-file",
        "from-bytes",
        "from-b64",
        "from-obj",
    ]
    legacy.wait_until_inputs_upload_finish(10)
    stored = legacy.inputs.get("from-url")
    assert stored.metadata == {"kind": "swatch", "nested": {"level": 2}}
    assert stored.geo is not None and stored.geo.geo_point is not None
    assert round(stored.geo.geo_point.longitude, 2) == 2.35
    assert stored.status == ApiStatus(30000, "Download complete")
    assert stored.created_at and stored.dict()["id"] == "from-url"


def test_bulk_create_images_sends_batches_of_128(legacy: ClarifaiApp, emulator: Emulator) -> None:
    images = [Image(base64=b64png(RED, size=4 + i % 40), image_id=f"img-{i:03d}") for i in range(130)]
    before = calls(emulator, "PostInputs")
    created = legacy.inputs.bulk_create_images(images)
    assert calls(emulator, "PostInputs") - before == 2
    assert [i.input_id for i in created] == [f"img-{i:03d}" for i in range(130)]
    legacy.wait_until_inputs_upload_finish(20)
    assert legacy.inputs.check_status() == InputCounts(processed=130, description="Ok")


def test_a_failed_input_of_a_batch_is_named(legacy: ClarifaiApp) -> None:
    legacy.inputs.create_image_from_bytes(png(RED), image_id="taken")
    with pytest.raises(ApiError) as failure:
        legacy.inputs.bulk_create_images(
            [Image(base64=b64png(BLUE), image_id="new"), Image(base64=b64png(GREEN), image_id="taken")]
        )
    assert "'taken'" in str(failure.value) and "duplicate" in str(failure.value).lower()
    assert "1 of 2 failed" in str(failure.value)
    assert legacy.inputs.get("new").input_id == "new"  # the other input was added


def test_bad_images_are_refused_before_any_request(legacy: ClarifaiApp, emulator: Emulator) -> None:
    before = sum(emulator.calls.counts().values())
    with pytest.raises(UserError, match="crop"):
        legacy.inputs.create_image_from_url("https://example.com/a.jpg", crop=[0.1, 0.1, 0.5, 0.5])
    with pytest.raises(UserError, match="list of concept ids"):
        Image(url="https://example.com/a.jpg", concepts="cat")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="one of url, file_obj, base64 or filename"):
        Image(url="https://example.com/a.jpg", filename="a.jpg")
    with pytest.raises(UserError, match="geo is one point"):
        Image(url="https://example.com/a.jpg", geo=Geo(geo_point=GeoPoint(1, 2), geo_limit=GeoLimit()))
    with pytest.raises(UserError, match="metadata must be a dict"):
        Image(url="https://example.com/a.jpg", metadata=["x"])  # type: ignore[arg-type]
    with pytest.raises(UserError, match="base64"):
        legacy.inputs.create_image_from_base64("not base64!")
    with pytest.raises(UserError, match="binary mode"):
        Image(file_obj=io.StringIO("text"))
    with pytest.raises(UserError, match="raw bytes"):
        legacy.inputs.create_image_from_bytes("text")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="has no content"):
        legacy.inputs.create_image(Image(image_id="empty"))
    with pytest.raises(UserError, match="an Image"):
        legacy.inputs.create_image(Video(url="https://example.com/a.mp4"))  # type: ignore[arg-type]
    with pytest.raises(UserError, match="non-empty list of Image"):
        legacy.inputs.bulk_create_images([])
    with pytest.raises(UserError, match="BoundingBox needs"):
        BoundingBox(0.5, 0.1, 0.2, 0.9)
    with pytest.raises(UserError, match="feedback_type"):
        RegionInfo(feedback_type="great")
    with pytest.raises(UserError, match="limit_type"):
        GeoLimit("furlong", 3)
    with pytest.raises(UserError, match="latitude"):
        GeoPoint(10, 100)
    assert sum(emulator.calls.counts().values()) == before


def test_reading_and_paging(legacy: ClarifaiApp, tmp_path: Path) -> None:
    for i in range(5):
        legacy.inputs.create_image_from_bytes(png(RED, size=8 + i), image_id=f"in-{i}")
    legacy.inputs.create_image_from_url((tmp_path / "missing.png").as_uri(), image_id="broken")
    legacy.wait_until_inputs_upload_finish(10)
    everything = [i.input_id for i in legacy.inputs.get_all()]
    assert sorted(everything) == ["broken", "in-0", "in-1", "in-2", "in-3", "in-4"]
    assert "broken" not in [i.input_id for i in legacy.inputs.get_all(ignore_error=True)]
    pages = [legacy.inputs.get_by_page(page, 4) for page in (1, 2)]
    assert [len(p) for p in pages] == [4, 2]
    assert [i.input_id for i in pages[0] + pages[1]] == everything
    assert len(legacy.inputs.get_by_page(1, 4, ignore_error=True)) == 4 - ("broken" in everything[:4])
    assert legacy.inputs.check_status().errors == 1
    with pytest.raises(ApiError) as failure:
        legacy.inputs.get("no-such-input")
    assert failure.value.status_name == "INPUT_DOES_NOT_EXIST"
    with pytest.raises(UserError, match="per_page"):
        legacy.inputs.get_by_page(1, 0)


def test_concepts_of_inputs(legacy: ClarifaiApp) -> None:
    legacy.inputs.create_image_from_bytes(png(RED), image_id="a", concepts=["red"])
    legacy.inputs.create_image_from_bytes(png(BLUE), image_id="b")
    merged = legacy.inputs.merge_concepts("a", ["warm"], ["cold"])
    assert (merged.concepts, merged.not_concepts) == (["red", "warm"], ["cold"])
    added = legacy.inputs.add_concepts("a", [Concept(concept_id="bright", concept_name="Bright")], ["dark"])
    assert added.concepts == ["red", "warm", "bright"] and added.not_concepts == ["cold", "dark"]
    replaced = legacy.inputs.merge_concepts("a", ["only"], None, overwrite=True)
    assert (replaced.concepts, replaced.not_concepts) == (["only"], [])
    assert legacy.inputs.delete_concepts("a", ["only"]).concepts == []
    both = legacy.inputs.bulk_merge_concepts(["a", "b"], [[("cat", True), ("dog", False)], ["blue"]])
    assert [(i.concepts, i.not_concepts) for i in both] == [(["cat"], ["dog"]), (["blue"], [])]
    one = legacy.inputs.bulk_merge_concepts("b", [["sky"]])  # a single id, as the published docstring
    assert one[0].concepts == ["blue", "sky"]
    removed = legacy.inputs.bulk_delete_concepts(["a", "b"], [["cat", "dog"], ["sky"]])
    assert [i.concepts for i in removed] == [[], ["blue"]]
    assert {c.concept_id for c in legacy.concepts.get_all()} >= {"red", "warm", "cat", "dog", "sky"}


def test_metadata_and_updates(legacy: ClarifaiApp) -> None:
    legacy.inputs.create_image_from_bytes(png(RED), image_id="a", metadata={"k": "v", "n": {"x": 1}})
    legacy.inputs.create_image_from_bytes(png(BLUE), image_id="b", concepts=["blue"])
    merged = legacy.inputs.merge_metadata("a", {"n": {"y": 2}, "new": True})
    assert merged.metadata == {"k": "v", "n": {"x": 1, "y": 2}, "new": True}
    updated = legacy.inputs.update(
        Image(image_id="a", concepts=["c1"], not_concepts=["c3"], metadata={"m": 1})
    )
    assert updated.concepts == ["c1"] and updated.metadata == {
        "k": "v",
        "n": {"x": 1, "y": 2},
        "new": True,
        "m": 1,
    }
    box = Region(RegionInfo(BoundingBox(0.1, 0.2, 0.5, 0.6)), concepts=["corner"])
    overwritten = legacy.inputs.bulk_update(
        [Image(image_id="a", concepts=["c2"], metadata={"only": "this"}), Image(image_id="b", regions=[box])],
        action="overwrite",
    )
    assert overwritten[0].concepts == ["c2"] and overwritten[0].metadata == {"only": "this"}
    (region,) = overwritten[1].regions
    assert region.region_info is not None and region.region_info.bbox == BoundingBox(0.1, 0.2, 0.5, 0.6)
    assert [c.concept_id for c in region.concepts] == ["corner"]  # type: ignore[union-attr]
    with pytest.raises(UserError, match="action"):
        legacy.inputs.update(Image(image_id="a", concepts=["x"]), action="replace")
    with pytest.raises(UserError, match="image_id"):
        legacy.inputs.bulk_update([Image(concepts=["x"])])
    with pytest.raises(UserError, match="one list of concepts per input id"):
        legacy.inputs.bulk_merge_concepts(["a", "b"], [["x"]])
    with pytest.raises(UserError, match=r"\(concept_id, True\|False\)"):
        legacy.inputs.bulk_merge_concepts(["a"], [[("x", 1)]])  # type: ignore[list-item]
    with pytest.raises(ApiError) as failure:
        legacy.inputs.merge_concepts("never-added", ["x"])
    assert "never-added" in str(failure.value)


def test_delete_one_some_and_all(legacy: ClarifaiApp) -> None:
    for i in range(4):
        legacy.inputs.create_image_from_bytes(png(GREEN, size=8 + i), image_id=f"d{i}")
    assert legacy.inputs.delete("d0") == ApiStatus(10000, "Ok")
    assert legacy.inputs.delete(["d1", "d2"]).code == 10000
    assert [i.input_id for i in legacy.inputs.get_all()] == ["d3"]
    assert legacy.inputs.delete_all().code == 10000
    legacy.wait_until_inputs_delete_finish(5)
    assert list(legacy.inputs.get_all()) == []
    with pytest.raises(UserError, match="input_id"):
        legacy.inputs.delete([])


def test_outputs_are_predictions_with_corrections(legacy: ClarifaiApp, tmp_path: Path) -> None:
    legacy.inputs.create_image_from_url(png_file(tmp_path, "red", RED).as_uri(), image_id="red")
    legacy.wait_until_inputs_upload_finish(10)
    outputs = legacy.inputs.get_outputs("red")
    (output,) = outputs["outputs"]
    assert output["input"]["id"] == "red" and output["model"]["id"] == "general-image-recognition"
    predicted = [c["id"] for c in output["data"]["concepts"]]
    assert "red" in predicted[:3] and "shiny" not in predicted
    merged = legacy.inputs.merge_outputs_concepts("red", ["shiny"])
    assert merged["annotations"][0]["id"] == "outputs-red"
    removed = legacy.inputs.remove_outputs_concepts("red", ["red"])
    assert {c["id"]: c.get("value", 0) for c in removed["annotations"][0]["data"]["concepts"]} == {
        "shiny": 1.0,
        "red": 0,
    }
    corrected = [c["id"] for c in legacy.inputs.get_outputs("red")["outputs"][0]["data"]["concepts"]]
    assert corrected[0] == "shiny" and "red" not in corrected
    assert corrected[1:] == [c for c in predicted if c != "red"]
    with pytest.raises(ApiError):
        legacy.inputs.merge_outputs_concepts("never-added", ["x"])
    with pytest.raises(UserError, match="concept_ids"):
        legacy.inputs.remove_outputs_concepts("red", "red")  # type: ignore[arg-type]


def test_outputs_need_a_processed_image(legacy: ClarifaiApp) -> None:
    legacy.api.inputs().upload_text("note", "a text input")
    with pytest.raises(UserError, match="not an image"):
        legacy.inputs.get_outputs("note")
    text = legacy.inputs.get("note")
    assert type(text).__name__ == "Input" and text.input_id == "note"


def test_base64_round_trip_of_the_image_attribute() -> None:
    raw = png(RED)
    image = Image(base64=base64.b64encode(raw), image_id="x")
    assert image.base64 == base64.b64encode(raw)
    assert image.dict()["data"]["image"]["base64"] == base64.b64encode(raw).decode()
