"""Tests for the Clarifai emulator's search engine: ranks, filters, metrics and pagination."""

from __future__ import annotations

import io
import math
import threading
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from modelwire.emulator.clarifai.embeddings import (
    IMAGE_DIM,
    TEXT_DIM,
    EmbeddingError,
    embed_image,
    embed_text,
)
from modelwire.emulator.clarifai.search import (
    DEFAULT_PER_PAGE,
    EARTH_RADIUS_KM,
    MAX_PER_PAGE,
    Document,
    Filter,
    Hit,
    Rank,
    SearchIndex,
    count,
    geo_limit_km,
    haversine_km,
    metadata_contains,
    search,
)

PARIS = (2.3522, 48.8566)
LONDON = (-0.1276, 51.5072)
BERLIN = (13.4050, 52.5200)
NEW_YORK = (-74.0060, 40.7128)

TEXTS = {
    "t-fox1": "the quick brown fox jumps over the lazy dog",
    "t-fox2": "a quick brown fox jumped over a lazy dog",
    "t-cake1": "recipe for chocolate cake",
    "t-cake2": "how to bake a chocolate cake at home",
    "t-market": "stock markets fell sharply on tuesday",
}


def scene(seed: int, size: tuple[int, int] = (160, 120)) -> Image.Image:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", size, tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = int(rng.integers(0, size[0])), int(rng.integers(0, size[1]))
        x1, y1 = x0 + int(rng.integers(10, 80)), y0 + int(rng.integers(10, 80))
        draw.rectangle((x0, y0, x1, y1), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    return img


def encode(img: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def ids(hits: list[Hit]) -> list[str]:
    return [hit.input_id for hit in hits]


def text_doc(input_id: str, text: str, **fields: Any) -> Document:
    return Document(input_id, "text", embed_text(text), **fields)


@pytest.fixture
def index() -> SearchIndex:
    """Five text inputs and four image inputs with concepts, metadata, datasets and places."""
    ix = SearchIndex()
    for n, (input_id, text) in enumerate(TEXTS.items()):
        ix.add(text_doc(input_id, text, created_at=100.0 + n, dataset_ids={"texts"}))
    images: list[tuple[str, int, dict[str, Any]]] = [
        (
            "i-paris",
            1,
            {
                "concepts": {"c-cat": 1.0, "c-dog": 0.0},
                "concept_names": {"c-cat": "cat", "c-dog": "dog"},
                "metadata": {"city": "paris", "tags": ["a", "b"], "size": {"w": 3, "h": 2}, "ok": True},
                "geo": PARIS,
                "dataset_ids": {"photos", "europe"},
            },
        ),
        (
            "i-london",
            2,
            {
                "concepts": {"c-dog": 1.0},
                "concept_names": {"c-dog": "dog"},
                "metadata": {"city": "london", "tags": ["b"], "ok": 1},
                "geo": LONDON,
                "dataset_ids": {"photos", "europe"},
            },
        ),
        (
            "i-berlin",
            3,
            {
                "concepts": {"c-cat": 1.0, "c-dog": 1.0},
                "concept_names": {"c-cat": "cat", "c-dog": "dog"},
                "metadata": {"city": "berlin", "size": {"w": 3, "h": 5}},
                "geo": BERLIN,
                "dataset_ids": {"photos"},
                "status_code": 30002,
            },
        ),
        ("i-nyc", 4, {"metadata": {"city": "new york"}, "geo": NEW_YORK}),
    ]
    for n, (input_id, seed, fields) in enumerate(images):
        ix.add(Document(input_id, "image", embed_image(encode(scene(seed))), created_at=200.0 + n, **fields))
    ix.add(Document("v-clip", "video", None, created_at=300.0, metadata={"city": "paris"}))
    return ix


ALL_IDS = {*TEXTS, "i-paris", "i-london", "i-berlin", "i-nyc", "v-clip"}


def everything(ix: SearchIndex, **kwargs: Any) -> list[Hit]:
    return search(ix, per_page=MAX_PER_PAGE, **kwargs)


# ---------------------------------------------------------------------------------------------
# Index


def test_add_get_remove_len_and_replace(index: SearchIndex) -> None:
    assert len(index) == len(ALL_IDS) and "t-fox1" in index
    doc = index.get("i-paris")
    assert doc is not None and doc.geo == PARIS and doc.concepts == {"c-cat": 1.0, "c-dog": 0.0}
    assert index.get("missing") is None
    assert index.remove("t-fox1") and not index.remove("t-fox1")
    assert "t-fox1" not in ids(everything(index))
    index.add(Document("i-nyc", "image", None, metadata={"city": "boston"}))  # same id: replaces
    assert len(index) == len(ALL_IDS) - 1
    assert ids(everything(index, filters=[Filter(metadata={"city": "boston"})])) == ["i-nyc"]


def test_index_keeps_its_own_copy() -> None:
    ix = SearchIndex()
    vector = np.ones(4, dtype=np.float32)
    doc = Document("a", "image", vector, metadata={"k": [1]})
    ix.add(doc)
    vector[:] = 0
    doc.metadata["k"].append(2)
    stored = ix.get("a")
    assert stored is not None and stored.vector is not None
    assert stored.vector.tolist() == [1, 1, 1, 1] and stored.metadata == {"k": [1]}
    stored.metadata["k"] = "changed"  # get returns a copy too
    assert ids(everything(ix, filters=[Filter(metadata={"k": [1]})])) == ["a"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (Document("", "text"), "input_id"),
        (Document("a", "pdf"), "unknown kind"),  # type: ignore[arg-type]
        (Document("a", "image", np.array([1.0, math.nan], dtype=np.float32)), "NaN"),
        (Document("a", "image", np.zeros((2, 2), dtype=np.float32)), "1-D"),
        (Document("a", "image", geo=(200.0, 0.0)), "longitude"),
        (Document("a", "image", geo=(0.0, -91.0)), "latitude"),
    ],
)
def test_add_rejects_bad_documents(doc: Document, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SearchIndex().add(doc)


def test_concurrent_adds_and_searches() -> None:
    ix = SearchIndex()
    errors: list[BaseException] = []

    def writer(start: int) -> None:
        try:
            for n in range(start, start + 50):
                ix.add(text_doc(f"d{n:04d}", f"document number {n} about topic {n % 7}", created_at=n))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(30):
                hits = search(ix, [Rank(text="topic 3")], per_page=20)
                assert len(set(ids(hits))) == len(hits)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k * 50,)) for k in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(ix) == 200 and count(ix) == 200


# ---------------------------------------------------------------------------------------------
# Ranks


def test_no_ranks_lists_newest_first_with_score_one(index: SearchIndex) -> None:
    hits = everything(index)
    assert ids(hits)[:3] == ["v-clip", "i-nyc", "i-berlin"]
    assert ids(hits)[-1] == "t-fox1" and {hit.score for hit in hits} == {1.0}
    assert set(ids(hits)) == ALL_IDS


def test_no_ranks_ties_break_by_input_id() -> None:
    ix = SearchIndex()
    for input_id in ["c", "a", "b"]:
        ix.add(Document(input_id, "text", created_at=5.0))
    ix.add(Document("z", "text", created_at=1.0))
    assert ids(search(ix)) == ["a", "b", "c", "z"]


def test_text_rank_ranks_similar_text_first_and_only_text(index: SearchIndex) -> None:
    hits = everything(index, ranks=[Rank(text="quick brown foxes jumping")])
    assert ids(hits)[:2] == ["t-fox1", "t-fox2"] or ids(hits)[:2] == ["t-fox2", "t-fox1"]
    assert set(ids(hits)) == set(TEXTS)  # images are never scored by a text query
    assert all(0.0 <= hit.score <= 1.0 for hit in hits)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    cake = everything(index, ranks=[Rank(text="chocolate cake recipe")])
    assert set(ids(cake)[:2]) == {"t-cake1", "t-cake2"}


def test_text_rank_exact_text_scores_one(index: SearchIndex) -> None:
    for metric in ("cosine", "euclidean"):
        top = search(index, [Rank(text=TEXTS["t-market"])], metric=metric, per_page=1)[0]
        assert top.input_id == "t-market" and top.score == pytest.approx(1.0, abs=1e-6)


def test_text_idf_downweights_common_words() -> None:
    corpus = [
        "a photo of a cat on a sofa",
        "a photo of a dog in a park",
        "a photo of a bird on a branch",
        "a photo of a sunset over the sea",
        "a photo of a child",
        "red bicycle",
    ]
    query = [Rank(text="a photo of a red bicycle")]
    tops = {}
    for use_idf in (False, True):
        ix = SearchIndex(text_idf=use_idf)
        for n, text in enumerate(corpus):
            ix.add(text_doc(f"d{n}", text))
        tops[use_idf] = search(ix, query, per_page=1)[0].input_id
    assert tops == {False: "d4", True: "d5"}


def test_blank_text_inputs_are_not_scored() -> None:
    ix = SearchIndex()
    ix.add(text_doc("blank", "   "))
    ix.add(text_doc("word", "hello"))
    assert ids(search(ix, [Rank(text="hello")])) == ["word"]


def test_image_rank_finds_the_same_picture_first(index: SearchIndex) -> None:
    # A smaller JPEG copy of i-london's picture.
    query = encode(scene(2).resize((80, 60)), "JPEG", quality=70)
    hits = everything(index, ranks=[Rank(image_bytes=query)])
    assert ids(hits)[0] == "i-london" and hits[0].score > 0.99
    assert set(ids(hits)) == {"i-paris", "i-london", "i-berlin", "i-nyc"}


def test_image_rank_with_undecodable_bytes_raises(index: SearchIndex) -> None:
    with pytest.raises(EmbeddingError, match="cannot embed image"):
        search(index, [Rank(image_bytes=b"garbage")])


def test_vector_rank_matches_by_length_and_kind(index: SearchIndex) -> None:
    image_vector = embed_image(encode(scene(3)))
    assert ids(search(index, [Rank(vector=image_vector)], per_page=1)) == ["i-berlin"]
    assert search(index, [Rank(vector=image_vector, vector_kind="text")]) == []
    text_vector = embed_text("stock markets")
    assert ids(search(index, [Rank(vector=text_vector)], per_page=1)) == ["t-market"]
    assert search(index, [Rank(vector=np.ones(7, dtype=np.float32))]) == []
    assert TEXT_DIM != IMAGE_DIM  # how a raw vector's modality is told apart


def test_concept_rank_by_id_and_name(index: SearchIndex) -> None:
    by_id = everything(index, ranks=[Rank(concepts=[("c-cat", 1)])])
    by_name = everything(index, ranks=[Rank(concepts=[("cat", 1)])])
    assert ids(by_id) == ids(by_name) == ["i-berlin", "i-paris"]
    both = everything(index, ranks=[Rank(concepts=[("cat", 1), ("dog", 1)])])
    assert [(h.input_id, h.score) for h in both] == [("i-berlin", 1.0), ("i-london", 0.5), ("i-paris", 0.5)]
    negative = everything(index, ranks=[Rank(concepts=[("dog", 0)])])
    assert ids(negative) == ["i-paris"]  # explicitly annotated as not a dog


def test_concept_rank_uses_predicted_values() -> None:
    ix = SearchIndex()
    ix.add(Document("low", "image", concepts={"c": 0.3}))
    ix.add(Document("high", "image", concepts={"c": 0.9}))
    hits = search(ix, [Rank(concepts=[("c", 1)])])
    assert [(h.input_id, round(h.score, 6)) for h in hits] == [("high", 0.9), ("low", 0.3)]


def test_metadata_rank_returns_matches(index: SearchIndex) -> None:
    hits = everything(index, ranks=[Rank(metadata={"city": "paris"})])
    assert ids(hits) == ["i-paris", "v-clip"] and {h.score for h in hits} == {1.0}


def test_geo_rank_orders_by_distance_within_limit(index: SearchIndex) -> None:
    hits = everything(index, ranks=[Rank(geo=(*PARIS, 1000.0))])
    assert ids(hits) == ["i-paris", "i-london", "i-berlin"]  # New York is beyond 1000 km
    assert hits[0].score == pytest.approx(1.0)
    assert hits[1].score == pytest.approx(1.0 - haversine_km(PARIS, LONDON) / 1000.0)


def test_several_ranks_average_and_boost(index: SearchIndex) -> None:
    image_query = Rank(image_bytes=encode(scene(1)))
    plain = everything(index, ranks=[image_query])
    boosted = everything(index, ranks=[image_query, Rank(metadata={"city": "new york"})])
    assert ids(plain)[0] == "i-paris" and ids(boosted)[0] == "i-nyc"
    by_id = {h.input_id: h.score for h in plain}
    boosted_by_id = {h.input_id: h.score for h in boosted}
    assert boosted_by_id["i-nyc"] == pytest.approx((by_id["i-nyc"] + 1.0) / 2)
    assert boosted_by_id["i-paris"] == pytest.approx(by_id["i-paris"] / 2)


# ---------------------------------------------------------------------------------------------
# Filters


def test_filter_concepts(index: SearchIndex) -> None:
    assert ids(everything(index, filters=[Filter(concepts=[("cat", 1)])])) == ["i-berlin", "i-paris"]
    assert ids(everything(index, filters=[Filter(concepts=[("c-dog", 1), ("cat", 1)])])) == ["i-berlin"]
    not_dog = set(ids(everything(index, filters=[Filter(concepts=[("dog", 0)])])))
    assert not_dog == ALL_IDS - {"i-london", "i-berlin"}  # includes i-paris (negative) and unlabelled


def test_filter_metadata_containment(index: SearchIndex) -> None:
    def matching(metadata: dict[str, Any]) -> set[str]:
        return set(ids(everything(index, filters=[Filter(metadata=metadata)])))

    assert matching({"city": "paris"}) == {"i-paris", "v-clip"}
    assert matching({"size": {"w": 3}}) == {"i-paris", "i-berlin"}
    assert matching({"size": {"w": 3.0, "h": 5}}) == {"i-berlin"}  # numbers compare as doubles
    assert matching({"tags": ["b"]}) == {"i-paris", "i-london"}
    assert matching({"tags": ["a", "b"]}) == {"i-paris"}
    assert matching({"tags": "a"}) == {"i-paris"}  # a list contains its scalar elements
    assert matching({"ok": True}) == {"i-paris"}  # true is not 1
    assert matching({"ok": 1}) == {"i-london"}
    assert matching({"city": "rome"}) == set()


def test_metadata_contains_rules() -> None:
    assert metadata_contains({"a": {"b": [1, {"c": None}]}}, {"a": {"b": [{"c": None}]}})
    assert not metadata_contains({"a": {"b": [1]}}, {"a": {"b": [2]}})
    assert metadata_contains({"a": 1}, {})
    assert not metadata_contains({"a": 1}, {"a": "1"})
    assert not metadata_contains({"a": False}, {"a": 0})
    assert not metadata_contains({"a": [1]}, {"a": {"0": 1}})


def test_filter_input_types_dataset_ids_and_status(index: SearchIndex) -> None:
    assert set(ids(everything(index, filters=[Filter(input_types={"text"})]))) == set(TEXTS)
    either = set(ids(everything(index, filters=[Filter(input_types={"video", "audio"})])))
    assert either == {"v-clip"}
    europe_or_texts = set(ids(everything(index, filters=[Filter(dataset_ids={"europe", "texts"})])))
    assert europe_or_texts == set(TEXTS) | {"i-paris", "i-london"}
    assert ids(everything(index, filters=[Filter(status_code=30002)])) == ["i-berlin"]
    assert len(everything(index, filters=[Filter(status_code=30000)])) == len(ALL_IDS) - 1


def test_filter_geo_radius_on_known_coordinates(index: SearchIndex) -> None:
    assert haversine_km(PARIS, LONDON) == pytest.approx(343.6, abs=0.5)
    assert haversine_km(PARIS, BERLIN) == pytest.approx(878.0, abs=1.0)

    def within(km: float) -> set[str]:
        return set(ids(everything(index, filters=[Filter(geo=(*PARIS, km))])))

    assert within(1.0) == {"i-paris"}
    assert within(340.0) == {"i-paris"}
    assert within(350.0) == {"i-paris", "i-london"}
    assert within(900.0) == {"i-paris", "i-london", "i-berlin"}
    assert within(6000.0) == {"i-paris", "i-london", "i-berlin", "i-nyc"}


def test_haversine_reference_values() -> None:
    one_degree = math.pi / 180.0 * EARTH_RADIUS_KM
    assert haversine_km((0.0, 0.0), (0.0, 1.0)) == pytest.approx(one_degree)
    assert haversine_km((10.0, 0.0), (11.0, 0.0)) == pytest.approx(one_degree)  # along the equator
    assert haversine_km((0.0, 0.0), (180.0, 0.0)) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert haversine_km((179.5, 0.0), (-179.5, 0.0)) == pytest.approx(one_degree)  # across the antimeridian
    assert haversine_km(PARIS, PARIS) == 0.0


def test_geo_limit_units() -> None:
    assert geo_limit_km("withinKilometers", 5) == 5.0
    assert geo_limit_km("withinMiles", 1) == pytest.approx(1.609344)
    assert geo_limit_km("withinDegrees", 1) == pytest.approx(haversine_km((0.0, 0.0), (0.0, 1.0)))
    assert geo_limit_km("withinRadians", 1) == pytest.approx(EARTH_RADIUS_KM)
    with pytest.raises(ValueError, match="unknown geo limit type"):
        geo_limit_km("withinFurlongs", 1)


def test_filter_geo_box(index: SearchIndex) -> None:
    box = Filter(geo_box=((5.0, 55.0), (-5.0, 45.0)))  # corners in any order
    assert set(ids(everything(index, filters=[box]))) == {"i-paris", "i-london"}


def test_filters_and_together_and_negate(index: SearchIndex) -> None:
    europe = Filter(geo=(*PARIS, 1000.0))
    dogs = Filter(concepts=[("dog", 1)])
    assert set(ids(everything(index, filters=[europe, dogs]))) == {"i-london", "i-berlin"}
    criteria_in_one = Filter(geo=(*PARIS, 1000.0), concepts=[("dog", 1)])
    assert set(ids(everything(index, filters=[criteria_in_one]))) == {"i-london", "i-berlin"}
    not_europe = Filter(geo=(*PARIS, 1000.0), negate=True)
    assert set(ids(everything(index, filters=[not_europe]))) == ALL_IDS - {"i-paris", "i-london", "i-berlin"}
    not_both = Filter(geo=(*PARIS, 1000.0), concepts=[("dog", 1)], negate=True)  # NOT (a AND b)
    assert set(ids(everything(index, filters=[not_both]))) == ALL_IDS - {"i-london", "i-berlin"}
    images_not_dogs = [Filter(input_types={"image"}), Filter(concepts=[("dog", 1)], negate=True)]
    assert set(ids(everything(index, filters=images_not_dogs))) == {"i-paris", "i-nyc"}


def test_empty_filter_is_a_no_op(index: SearchIndex) -> None:
    for empty in (Filter(), Filter(negate=True), Filter(input_types=set(), dataset_ids=set())):
        assert len(everything(index, filters=[empty])) == len(ALL_IDS)


def test_filters_apply_to_ranked_searches(index: SearchIndex) -> None:
    hits = everything(index, ranks=[Rank(text="lazy dog")], filters=[Filter(dataset_ids={"texts"})])
    assert set(ids(hits)) == set(TEXTS)
    only_cakes = everything(index, ranks=[Rank(text="lazy dog")], filters=[Filter(metadata={"x": 1})])
    assert only_cakes == []


# ---------------------------------------------------------------------------------------------
# Metrics


def raw_vector_index(n: int = 40, dim: int = 8) -> tuple[SearchIndex, np.ndarray]:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(n, dim)) * rng.uniform(0.1, 5.0, size=(n, 1))  # unnormalised
    ix = SearchIndex()
    for k, vector in enumerate(vectors):
        ix.add(Document(f"v{k:02d}", "audio", vector.astype(np.float32)))
    return ix, vectors.astype(np.float32).astype(np.float64)


def test_cosine_and_euclidean_can_order_differently() -> None:
    ix = SearchIndex()
    ix.add(Document("far-aligned", "image", np.array([10.0, 0.0, 0.0], dtype=np.float32)))
    ix.add(Document("near-skewed", "image", np.array([0.9, 0.5, 0.0], dtype=np.float32)))
    query = [Rank(vector=np.array([1.0, 0.0, 0.0], dtype=np.float32))]
    assert ids(search(ix, query, metric="cosine")) == ["far-aligned", "near-skewed"]
    assert ids(search(ix, query, metric="euclidean")) == ["near-skewed", "far-aligned"]


def test_metric_scores_follow_their_definitions() -> None:
    ix, vectors = raw_vector_index()
    query = np.random.default_rng(1).normal(size=8).astype(np.float32)
    q = query.astype(np.float64)
    cosine = search(ix, [Rank(vector=query)], metric="cosine", per_page=MAX_PER_PAGE)
    euclidean = search(ix, [Rank(vector=query)], metric="euclidean", per_page=MAX_PER_PAGE)
    for hit in cosine:
        v = vectors[int(hit.input_id[1:])]
        expected = (1.0 + v @ q / (np.linalg.norm(v) * np.linalg.norm(q))) / 2.0
        assert hit.score == pytest.approx(expected, abs=1e-6)
    distances = {f"v{k:02d}": float(np.linalg.norm(v - q)) for k, v in enumerate(vectors)}
    assert ids(euclidean) == sorted(distances, key=lambda i: (distances[i], i))  # distance order
    for hit in euclidean:
        assert hit.score == pytest.approx(1.0 / (1.0 + distances[hit.input_id]), abs=1e-6)
    assert ids(cosine) != ids(euclidean)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_top_k_returns_exactly_k_distinct_hits(metric: str) -> None:
    ix, _ = raw_vector_index()
    query = [Rank(vector=np.ones(8, dtype=np.float32))]
    full = search(ix, query, metric=metric, per_page=MAX_PER_PAGE)  # type: ignore[arg-type]
    for k in (1, 5, 17, 40, 100):
        hits = search(ix, query, metric=metric, top_k=k)  # type: ignore[arg-type]
        assert len(hits) == min(k, 40) and len(set(ids(hits))) == len(hits)
        assert hits == full[:k]
        assert all(0.0 < hit.score <= 1.0 for hit in hits)


# ---------------------------------------------------------------------------------------------
# Pagination


def tied_index() -> SearchIndex:
    """60 inputs with many exact ties (created_at, metadata, concept values)."""
    ix = SearchIndex()
    for n in range(60):
        ix.add(
            Document(
                f"in-{(n * 37) % 60:02d}",
                "text" if n % 2 else "image",
                embed_text(f"item {n % 5}") if n % 2 else None,
                concepts={"c": 1.0 if n % 3 else 0.5},
                metadata={"group": n % 4},
                created_at=float(n % 6),
            )
        )
    return ix


@pytest.mark.parametrize(
    "ranks",
    [
        [],
        [Rank(metadata={"group": 1})],
        [Rank(concepts=[("c", 1)])],
        [Rank(text="item 3")],
        [Rank(text="item 3"), Rank(concepts=[("c", 1)])],
    ],
)
def test_pages_concatenate_to_the_full_ranking(ranks: list[Rank]) -> None:
    ix = tied_index()
    full = search(ix, ranks, per_page=MAX_PER_PAGE)
    assert len(set(ids(full))) == len(full) > 0
    keys = [(-hit.score, hit.input_id) for hit in full]
    if ranks:
        assert keys == sorted(keys)  # score descending, ties by input id
    for per_page in (1, 3, 7, 10, len(full), len(full) + 5):
        pages: list[Hit] = []
        for page in range(1, len(full) // per_page + 3):
            chunk = search(ix, ranks, page=page, per_page=per_page)
            assert len(chunk) <= per_page
            pages.extend(chunk)
        assert pages == full
        for k in range(1, 4):
            prefix = [
                hit for page in range(1, k + 1) for hit in search(ix, ranks, page=page, per_page=per_page)
            ]
            assert prefix == full[: k * per_page]


def test_top_k_caps_the_ranking_before_paging() -> None:
    ix = tied_index()
    full = search(ix, per_page=MAX_PER_PAGE)
    assert search(ix, top_k=10) == full[:10]
    pages = [search(ix, top_k=10, page=p, per_page=4) for p in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [4, 4, 2, 0]
    assert [hit for page in pages for hit in page] == full[:10]
    assert search(ix, top_k=5000) == full  # per_page defaults to min(top_k, MAX_PER_PAGE)


def test_default_page_size_and_count() -> None:
    ix = SearchIndex()
    for n in range(DEFAULT_PER_PAGE + 5):
        ix.add(Document(f"d{n:03d}", "audio", created_at=float(n)))
    assert len(search(ix)) == DEFAULT_PER_PAGE
    assert len(search(ix, page=2)) == 5
    assert count(ix) == DEFAULT_PER_PAGE + 5
    assert count(ix, filters=[Filter(input_types={"text"})]) == 0


# ---------------------------------------------------------------------------------------------
# Argument errors


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "manhattan"}, "unknown metric"),
        ({"page": 0}, "page must be an integer >= 1"),
        ({"per_page": 0}, "per_page must be an integer >= 1"),
        ({"per_page": MAX_PER_PAGE + 1}, "per_page must be at most"),
        ({"top_k": 0}, "top_k must be an integer >= 1"),
    ],
)
def test_bad_search_arguments(index: SearchIndex, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        search(index, **kwargs)


def test_count_rejects_unknown_metric(index: SearchIndex) -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        count(index, metric="dot")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "empty rank"),
        ({"concepts": []}, "empty rank"),
        ({"text": "a", "metadata": {}}, "exactly one criterion"),
        ({"text": "   "}, "non-blank"),
        ({"image_bytes": b""}, "empty"),
        ({"vector": np.zeros(4)}, "all zeros"),
        ({"vector": np.array([1.0, math.inf])}, "NaN or infinite"),
        ({"vector": np.ones(3), "vector_kind": "pdf"}, "unknown vector_kind"),
        ({"text": "a", "vector_kind": "text"}, "only applies to a vector rank"),
        ({"concepts": [("", 1)]}, "pairs"),
        ({"geo": (0.0, 0.0, 0.0)}, "positive number of km"),
        ({"geo": (0.0, 95.0, 1.0)}, "latitude"),
        ({"metadata": ["not", "a", "mapping"]}, "must be a mapping"),
    ],
)
def test_bad_ranks(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Rank(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_types": {"image", "pdf"}}, "unknown input types"),
        ({"input_types": "image"}, "not a string"),
        ({"dataset_ids": "ds"}, "not a string"),
        ({"geo": (0.0, 0.0, -1.0)}, "positive number of km"),
        ({"geo_box": ((0.0, 0.0), (181.0, 0.0))}, "longitude"),
        ({"concepts": [("c", math.nan)]}, "non-finite"),
    ],
)
def test_bad_filters(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Filter(**kwargs)


def test_search_rejects_wrong_types(index: SearchIndex) -> None:
    with pytest.raises(TypeError, match="Rank values"):
        search(index, [{"text_raw": "x"}])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="Filter values"):
        search(index, [], [{"input_types": ["image"]}])  # type: ignore[list-item]
