"""app.concepts: create, read, page, search (wildcards, language) and rename."""

from __future__ import annotations

import pytest
from legacy_helpers import legacy_fixture

from modelwire.clarifai.legacy import ApiError, ClarifaiApp, Concept, UserError

legacy = legacy_fixture()


def test_create_get_and_list(legacy: ClarifaiApp) -> None:
    cat = legacy.concepts.create("cat", "cute cat")
    assert (cat.concept_id, cat.concept_name, cat.app_id) == ("cat", "cute cat", legacy.api.id)
    assert cat.created_at and cat.created_at.endswith("Z")
    made = legacy.concepts.bulk_create(["dog", "fox"], ["cute dog", None])
    assert [(c.concept_id, c.concept_name) for c in made] == [("dog", "cute dog"), ("fox", "fox")]
    assert legacy.concepts.get("dog") == made[0]
    assert legacy.concepts.get("no-such-concept") is None
    assert {c.concept_id for c in legacy.concepts.get_all()} == {"cat", "dog", "fox"}
    first, second = legacy.concepts.get_by_page(1, 2), legacy.concepts.get_by_page(2, 2)
    assert len(first) == 2 and len(second) == 1
    assert {c.concept_id for c in first + second} == {"cat", "dog", "fox"}
    assert cat.dict() == {
        "id": "cat",
        "name": "cute cat",
        "value": 1.0,
        "app_id": legacy.api.id,
        "created_at": cat.created_at,
    }


def test_search_with_wildcards_and_language(legacy: ClarifaiApp) -> None:
    legacy.concepts.bulk_create(["c1", "c2", "c3"], ["cute cat", "cute dog", "angry cat"])
    assert {c.concept_id for c in legacy.concepts.search("cute*")} == {"c1", "c2"}
    assert {c.concept_id for c in legacy.concepts.search("*cat")} == {"c1", "c3"}
    assert [c.concept_id for c in legacy.concepts.search("angry cat", lang="en")] == ["c3"]
    assert list(legacy.concepts.search("*", lang="zh")) == []  # no concept names in Chinese
    with pytest.raises(UserError, match="term"):
        legacy.concepts.search("")


def test_search_pages_through_every_match(legacy: ClarifaiApp) -> None:
    ids = [f"k{i:03d}" for i in range(140)]  # more than one search page (128)
    legacy.concepts.bulk_create(ids)
    assert sorted(c.concept_id for c in legacy.concepts.search("k*")) == ids


def test_update_renames(legacy: ClarifaiApp) -> None:
    legacy.concepts.bulk_create(["a", "b"])
    renamed = legacy.concepts.update("a", "new a")
    assert isinstance(renamed, Concept) and renamed.concept_name == "new a"
    both = legacy.concepts.bulk_update(concept_ids=["a", "b"], concept_names=["A", "B"])
    assert [c.concept_name for c in both] == ["A", "B"]
    assert legacy.concepts.get("b").concept_name == "B"  # type: ignore[union-attr]


def test_bad_arguments(legacy: ClarifaiApp) -> None:
    with pytest.raises(UserError, match="list"):
        legacy.concepts.bulk_create("abc")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="one name per concept id"):
        legacy.concepts.bulk_create(["a", "b"], ["only one"])
    with pytest.raises(UserError, match="overwrite"):
        legacy.concepts.update("a", "x", action="merge")
    with pytest.raises(UserError, match="non-empty name"):
        legacy.concepts.bulk_update(["a"], [""])
    with pytest.raises(ApiError) as failure:
        legacy.concepts.update("never-created", "x")
    assert "never-created" in str(failure.value)
    with pytest.raises(UserError, match="concept_name or a concept_id"):
        Concept()
