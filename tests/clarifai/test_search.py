"""Search over the emulator's real embeddings: ranks, filters, metrics, exact top_k."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest
from PIL import Image

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire.clarifai import App, Inputs, Search, UserError

DOCS = {
    "cat-1": "a small cat sleeping on the sofa",
    "cat-2": "the kitten naps on a couch",
    "car-1": "a red sports car on the highway",
    "car-2": "fast cars racing on a track",
    "food": "fresh bread and cheese for breakfast",
}


def _png(color: tuple[int, int, int], stripes: bool = False) -> bytes:
    image = Image.new("RGB", (32, 32), color)
    if stripes:
        for x in range(0, 32, 4):
            for y in range(32):
                image.putpixel((x, y), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _hits(pages: Iterator[service_pb2.MultiSearchResponse]) -> list[resources_pb2.Hit]:
    """The hits of every page `query` yields (one MultiSearchResponse per page, as published)."""
    return [hit for page in pages for hit in page.hits]


@pytest.fixture
def indexed(app: App) -> App:
    inputs: Inputs = app.inputs()
    for input_id, text in DOCS.items():
        topic = input_id.split("-")[0]
        inputs.upload_text(input_id, text, labels=[topic], metadata={"topic": topic})
    inputs.upload_from_bytes("red-img", image_bytes=_png((220, 20, 20)), labels=["red"])
    inputs.upload_from_bytes("blue-img", image_bytes=_png((20, 20, 220), stripes=True), labels=["blue"])
    for _ in range(200):
        if all(i.status.code == 30000 for i in inputs.list_inputs()) and len(list(inputs.list_inputs())) == 7:
            break
        time.sleep(0.05)
    inputs.close()
    return app


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_text_rank_finds_similar_text(indexed: App, metric: str) -> None:
    search = indexed.search(top_k=2, metric=metric)
    hits = _hits(search.query(ranks=[{"text_raw": "a cat napping on a sofa"}]))
    assert {h.input.id for h in hits} == {"cat-1", "cat-2"}
    assert hits[0].score >= hits[1].score
    search.close()


def test_image_rank_and_filters(indexed: App) -> None:
    search = indexed.search(top_k=1)
    (hit,) = _hits(search.query(ranks=[{"image_bytes": _png((230, 30, 30))}]))
    assert hit.input.id == "red-img"
    texts_only = _hits(
        search.query(filters=[{"input_types": ["text"]}, {"concepts": [{"id": "car", "value": 1}]}])
    )
    assert [h.input.id for h in texts_only] == ["car-2"] or [h.input.id for h in texts_only] == ["car-1"]
    by_meta = _hits(indexed.search(top_k=10).query(filters=[{"metadata": {"topic": "food"}}]))
    assert [h.input.id for h in by_meta] == ["food"]
    search.close()


def test_top_k_returns_exactly_k_distinct_hits(indexed: App) -> None:
    for k in (1, 3, 7, 50):
        hits = _hits(indexed.search(top_k=k).query())
        ids = [h.input.id for h in hits]
        assert len(ids) == min(k, 7) and len(set(ids)) == len(ids)


def test_pagination_mode_pages_do_not_overlap(indexed: App) -> None:
    search = indexed.search(pagination=True)
    first = [h.input.id for h in _hits(search.query(page_no=1, per_page=3))]
    second = [h.input.id for h in _hits(search.query(page_no=2, per_page=3))]
    everything = [h.input.id for h in _hits(search.query())]
    assert len(first) == 3 and not set(first) & set(second)
    assert everything[:6] == first + second and len(everything) == 7
    # As published: per_page alone is one page (the first), not every page of that size.
    assert [h.input.id for h in _hits(search.query(per_page=3))] == first


def test_bad_queries_are_clear_errors(indexed: App) -> None:
    search = indexed.search(top_k=3)
    filters = [{"input_types": ["text"]}]
    with pytest.raises(UserError, match="unknown key"):
        list(search.query(ranks=[{"txt": "typo"}]))
    with pytest.raises(UserError, match="value must be 0 or 1"):
        list(search.query(filters=[{"concepts": [{"id": "cat", "value": 5}]}]))
    with pytest.raises(UserError, match="input_types"):
        list(search.query(filters=[{"input_types": ["hologram"]}]))
    list(search.query(filters=filters))
    assert filters == [{"input_types": ["text"]}]  # the caller's dicts are not mutated
    with pytest.raises(UserError, match="metric"):
        Search(user_id="u", app_id="a", metric="manhattan", pat="p", base_url="http://127.0.0.1:1")
    with pytest.raises(UserError, match="cannot be combined"):
        indexed.search(top_k=3, pagination=True)
    search.close()
