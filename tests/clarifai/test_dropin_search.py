"""Drop-in for clarifai 12.5.0 search: `query` yields one MultiSearchResponse per page (so
`for r in search.query(...): r.hits` works), `metric_distance`, and Struct metadata filters."""

from __future__ import annotations

import time

import pytest
from google.protobuf import struct_pb2

from modelwire._gen.clarifai.api import service_pb2
from modelwire.clarifai import App, Inputs, UserError
from modelwire.clarifai import search as search_module
from modelwire.clarifai.search import Search
from modelwire.emulator import Emulator

NOTES = [f"note {i} about {'cats' if i % 2 else 'cars'}" for i in range(7)]


@pytest.fixture
def notes(app: App) -> App:
    inputs = app.inputs()
    inputs.upload_inputs(
        [Inputs.get_text_input(f"n{i}", text, metadata={"parity": i % 2}) for i, text in enumerate(NOTES)]
    )
    for _ in range(200):
        if [i.status.code for i in inputs.list_inputs()] == [30000] * len(NOTES):
            break
        time.sleep(0.05)
    inputs.close()
    return app


def _searches(emulator: Emulator) -> int:
    return len(emulator.calls.records("PostInputsSearches"))


def test_query_yields_a_search_response_per_page(notes: App, emulator: Emulator) -> None:
    search = Search(user_id=notes.user_id, app_id=notes.id, top_k=3, metric="cosine", _connection=notes._conn)
    before = _searches(emulator)
    responses = list(search.query(ranks=[{"text_raw": "cats"}]))
    assert [type(r) for r in responses] == [service_pb2.MultiSearchResponse]
    hits = [hit for r in responses for hit in r.hits]  # the published idiom
    assert len(hits) == 3 and all(h.input.id.startswith("n") for h in hits)
    assert _searches(emulator) == before + 1
    search.close()


def test_top_k_pages_hold_exactly_top_k_hits(
    notes: App, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "MAX_PER_PAGE", 2)  # small pages, to see several
    search = notes.search(top_k=5)
    before = _searches(emulator)
    pages = list(search.query())
    assert [len(p.hits) for p in pages] == [2, 2, 1]  # the last page trimmed to top_k
    ids = [h.input.id for p in pages for h in p.hits]
    assert len(set(ids)) == 5 and _searches(emulator) == before + 3
    search.close()


def test_pagination_yields_every_page_then_stops(
    notes: App, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "DEFAULT_PER_PAGE", 3)
    search = notes.search(pagination=True)
    pages = list(search.query())
    assert [len(p.hits) for p in pages] == [3, 3, 1]
    (second,) = search.query(page_no=2, per_page=3)
    assert [h.input.id for h in second.hits] == [h.input.id for h in pages[1].hits]
    assert list(search.query(page_no=9, per_page=3)) == []  # no page without hits is yielded
    with pytest.raises(UserError, match="per_page must be at most 1000"):
        search.query(per_page=1001)
    search.close()


def test_nothing_found_yields_nothing(notes: App) -> None:
    search = notes.search(top_k=4)
    assert list(search.query(filters=[{"metadata": {"parity": 5}}])) == []
    search.close()


@pytest.mark.parametrize(
    ("metric", "wire"), [("cosine", "COSINE_DISTANCE"), ("euclidean", "EUCLIDEAN_DISTANCE")]
)
def test_metric_distance_is_the_published_attribute(notes: App, metric: str, wire: str) -> None:
    search = notes.search(top_k=1, metric=metric)
    assert search.metric_distance == wire
    search.close()


def test_metadata_filter_takes_a_struct(notes: App) -> None:
    wanted = struct_pb2.Struct()  # google.protobuf's own Struct, not modelwire's generated one
    wanted.update({"parity": 1})
    search = notes.search(top_k=10)
    ids = sorted(h.input.id for r in search.query(filters=[{"metadata": wanted}]) for h in r.hits)
    assert ids == ["n1", "n3", "n5"]
    with pytest.raises(UserError, match="metadata must be a dict"):
        search.query(filters=[{"metadata": ["parity"]}])
    search.close()
