"""Legacy search terms: the V2 queries they make, and every search helper against the emulator."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from legacy_helpers import BLUE, GREEN, RED, legacy_fixture, png, png_file

from modelwire.clarifai.legacy import (
    ClarifaiApp,
    Geo,
    GeoBox,
    GeoLimit,
    GeoPoint,
    Image,
    Input,
    InputSearchTerm,
    OutputSearchTerm,
    SearchQueryBuilder,
    SearchTerm,
    UserError,
)

legacy = legacy_fixture()
PARIS, LONDON = GeoPoint(2.35, 48.85), GeoPoint(-0.13, 51.51)


# -- the queries (no server) ---------------------------------------------------------------------------


def test_input_terms_are_filters() -> None:
    assert InputSearchTerm(concept="tag1").dict() == {
        "filters": [{"annotation": {"data": {"concepts": [{"name": "tag1", "value": 1.0}]}}}]
    }
    assert InputSearchTerm(concept_id="t1", value=False).dict() == {
        "filters": [{"annotation": {"data": {"concepts": [{"id": "t1"}]}}}]  # value 0: "not"
    }
    assert InputSearchTerm(url="https://x/a.jpg").dict() == {
        "filters": [{"input": {"data": {"image": {"url": "https://x/a.jpg"}}}}]
    }
    assert InputSearchTerm(input_id="site1_bla").dict() == {"filters": [{"input": {"id": "site1_bla"}}]}
    assert InputSearchTerm(metadata={"key": "value"}).dict() == {
        "filters": [{"annotation": {"data": {"metadata": {"key": "value"}}}}]
    }
    geo = InputSearchTerm(geo=Geo(geo_point=GeoPoint(-40, 30), geo_limit=GeoLimit("withinMiles", 10))).dict()
    assert geo["filters"][0]["annotation"]["data"]["geo"] == {
        "geo_point": {"longitude": -40.0, "latitude": 30.0},
        "geo_limit": {"type": "withinMiles", "value": 10.0},
    }


def test_output_terms_are_ranks() -> None:
    assert OutputSearchTerm(concept="tag1", value=False).dict() == {
        "ranks": [{"annotation": {"data": {"concepts": [{"name": "tag1"}]}}}]
    }
    assert OutputSearchTerm(url="https://x/a.jpg").dict() == {
        "ranks": [{"annotation": {"data": {"image": {"url": "https://x/a.jpg"}}}}]
    }
    assert OutputSearchTerm(input_id="site1_bla").dict() == {
        "ranks": [{"annotation": {"input_id": "site1_bla"}}]
    }
    encoded = base64.b64encode(b"\x89PNG...").decode()
    assert OutputSearchTerm(base64=encoded).dict() == {
        "ranks": [{"annotation": {"data": {"image": {"base64": encoded}}}}]
    }


def test_a_query_builder_ands_its_terms_in_its_language() -> None:
    qb = SearchQueryBuilder(language="zh")
    qb.add_term(InputSearchTerm(concept="猫"))
    qb.add_term(OutputSearchTerm(concept="狗"))
    assert qb.dict() == {
        "filters": [{"annotation": {"data": {"concepts": [{"name": "猫", "value": 1.0, "language": "zh"}]}}}],
        "ranks": [{"annotation": {"data": {"concepts": [{"name": "狗", "value": 1.0, "language": "zh"}]}}}],
    }


def test_bad_terms_are_refused() -> None:
    with pytest.raises(UserError, match="needs one of"):
        InputSearchTerm()
    with pytest.raises(UserError, match="needs one of"):
        OutputSearchTerm()
    with pytest.raises(UserError, match="one image source"):
        OutputSearchTerm(url="https://x/a.jpg", base64=base64.b64encode(b"x"))  # 2.x let base64 win silently
    with pytest.raises(UserError, match="crop"):
        OutputSearchTerm(url="https://x/a.jpg", crop=[0.1, 0.1, 0.5, 0.5])
    with pytest.raises(UserError, match="base64"):
        OutputSearchTerm(base64="***")
    with pytest.raises(UserError, match="InputSearchTerm or an OutputSearchTerm"):
        SearchQueryBuilder().add_term(SearchTerm())
    with pytest.raises(UserError, match="geo_limit"):
        InputSearchTerm(geo=Geo(geo_point=PARIS)).dict()
    with pytest.raises(UserError, match="exactly one of geo_point or geo_box"):
        Geo()
    with pytest.raises(UserError, match="image_url"):
        OutputSearchTerm(url="ftp://x/a.jpg").dict()
    with pytest.raises(UserError, match="value"):
        InputSearchTerm(concept="a", value=0.5).dict()  # type: ignore[arg-type]


# -- searching the emulator ------------------------------------------------------------------------------


@pytest.fixture
def indexed(legacy: ClarifaiApp, tmp_path: Path) -> tuple[ClarifaiApp, dict[str, str]]:
    """red (labelled cat and red, Paris), blue (labelled dog, London, striped), green (no labels)."""
    urls = {
        name: png_file(tmp_path, name, color).as_uri() for name, color in (("red", RED), ("green", GREEN))
    }
    legacy.inputs.create_image_from_url(
        urls["red"],
        image_id="red",
        concepts=["cat", "red"],
        metadata={"kind": "swatch", "owner": {"name": "ann"}},
        geo=Geo(geo_point=PARIS),
    )
    legacy.inputs.create_image_from_bytes(
        png(BLUE, stripes=True),
        image_id="blue",
        concepts=["dog"],
        not_concepts=["cat"],
        metadata={"kind": "swatch"},
        geo=Geo(geo_point=LONDON),
    )
    legacy.inputs.create_image_from_url(urls["green"], image_id="green")
    legacy.wait_until_inputs_upload_finish(10)
    return legacy, urls


def _ids(found: list[Input]) -> list[str | None]:
    return [i.input_id for i in found]


def test_search_by_annotated_concepts(indexed: tuple[ClarifaiApp, dict[str, str]]) -> None:
    app, _ = indexed
    (hit,) = app.inputs.search_by_annotated_concepts(concept="cat")
    assert hit.input_id == "red" and hit.score is not None and hit.concepts == ["cat", "red"]
    assert sorted(_ids(app.inputs.search_by_annotated_concepts(concept="cat", value=False))) == [
        "blue",
        "green",
    ]
    assert _ids(app.inputs.search_by_annotated_concepts(concept_id="dog")) == ["blue"]
    both = app.inputs.search_by_annotated_concepts(concepts=["dog", "cat"], values=[True, False])
    assert _ids(both) == ["blue"]
    assert app.inputs.search_by_annotated_concepts(concept_ids=["dog", "cat"]) == []
    with pytest.raises(UserError, match="exactly one of concept"):
        app.inputs.search_by_annotated_concepts(concept="cat", concept_id="cat")
    with pytest.raises(UserError, match="one value per concept"):
        app.inputs.search_by_annotated_concepts(concepts=["cat", "dog"], values=[True])


def test_search_by_metadata(indexed: tuple[ClarifaiApp, dict[str, str]]) -> None:
    app, _ = indexed
    assert sorted(_ids(app.inputs.search_by_metadata({"kind": "swatch"}))) == ["blue", "red"]
    assert _ids(app.inputs.search_by_metadata({"owner": {"name": "ann"}})) == ["red"]
    assert app.inputs.search_by_metadata({"kind": "photo"}) == []
    with pytest.raises(UserError, match="metadata"):
        app.inputs.search_by_metadata({})


def test_search_by_geo(indexed: tuple[ClarifaiApp, dict[str, str]]) -> None:
    app, _ = indexed
    assert _ids(app.inputs.search_by_geo(GeoPoint(2.3, 48.8), GeoLimit("kilometer", 50))) == ["red"]
    assert _ids(app.inputs.search_by_geo(GeoPoint(2.3, 48.8))) == ["red"]  # 20 miles by default
    assert app.inputs.search_by_geo(GeoPoint(2.3, 48.8), GeoLimit("mile", 1)) == []
    assert sorted(_ids(app.inputs.search_by_geo(GeoPoint(1, 50), GeoLimit("degree", 3)))) == ["blue", "red"]
    box = GeoBox(GeoPoint(-1, 51), GeoPoint(0, 52))
    assert _ids(app.inputs.search_by_geo(geo_box=box)) == ["blue"]
    with pytest.raises(UserError, match="exactly one of geo_point or geo_box"):
        app.inputs.search_by_geo(GeoPoint(0, 0), geo_box=box)


def test_search_by_image_every_way(indexed: tuple[ClarifaiApp, dict[str, str]], tmp_path: Path) -> None:
    app, urls = indexed
    red = png(RED)
    red_file = png_file(tmp_path, "query", RED)
    ways = [
        {"image_id": "red"},
        {"url": urls["red"]},
        {"imgbytes": red},
        {"base64bytes": base64.b64encode(red)},
        {"filename": str(red_file)},
        {"image": Image(url=urls["red"])},
        {"image": Image(image_id="red")},
    ]
    for way in ways:
        hits = app.inputs.search_by_image(**way)  # type: ignore[arg-type]
        assert hits[0].input_id == "red", way
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)  # type: ignore[type-var]
    with red_file.open("rb") as handle:
        assert app.inputs.search_by_image(fileobj=handle)[0].input_id == "red"
    with pytest.raises(UserError, match="exactly one of"):
        app.inputs.search_by_image(image_id="red", url=urls["red"])
    with pytest.raises(UserError, match="exactly one of"):
        app.inputs.search_by_image()
    with pytest.raises(UserError, match="crop"):
        app.inputs.search_by_image(url=urls["red"], crop=[0.1, 0.1, 0.5, 0.5])


def test_search_by_original_url(indexed: tuple[ClarifaiApp, dict[str, str]]) -> None:
    app, urls = indexed
    assert _ids(app.inputs.search_by_original_url(urls["green"])) == ["green"]
    assert app.inputs.search_by_original_url("https://example.com/never-added.png") == []


def test_search_with_a_query_builder_and_pages(indexed: tuple[ClarifaiApp, dict[str, str]]) -> None:
    app, urls = indexed
    qb = SearchQueryBuilder()
    qb.add_term(InputSearchTerm(metadata={"kind": "swatch"}))
    qb.add_term(OutputSearchTerm(url=urls["red"]))
    assert _ids(app.inputs.search(qb)) == ["red", "blue"]  # both are swatches; red looks most like red
    by_id = SearchQueryBuilder()
    by_id.add_term(InputSearchTerm(input_id="blue"))
    assert _ids(app.inputs.search(by_id)) == ["blue"]
    everything = SearchQueryBuilder()
    pages = [_ids(app.inputs.search(everything, page=p, per_page=2)) for p in (1, 2, 3)]
    assert [len(p) for p in pages] == [2, 1, 0]
    assert sorted(pages[0] + pages[1]) == ["blue", "green", "red"]
    with pytest.raises(UserError, match="SearchQueryBuilder"):
        app.inputs.search(InputSearchTerm(concept="cat"))  # type: ignore[arg-type]
    with pytest.raises(UserError, match="page_no"):
        app.inputs.search(qb, page=0)


def test_search_by_predicted_concepts(indexed: tuple[ClarifaiApp, dict[str, str]]) -> None:
    app, _ = indexed
    assert _ids(app.inputs.search_by_predicted_concepts(concept="green"))[0] == "green"  # never labelled
    assert "green" not in _ids(app.inputs.search_by_predicted_concepts(concept="red"))
    assert _ids(app.inputs.search_by_predicted_concepts(concept_ids=["red", "blue"])) == []


def test_search_by_predicted_concepts_ranks_by_concept(indexed: tuple[ClarifaiApp, dict[str, str]]) -> None:
    app, _ = indexed
    # red is labelled and predicted "red": it ranks first under either meaning of a concept rank.
    assert _ids(app.inputs.search_by_predicted_concepts(concept="red", lang="en"))[0] == "red"
    with pytest.raises(UserError, match="exactly one of concept"):
        app.inputs.search_by_predicted_concepts()
