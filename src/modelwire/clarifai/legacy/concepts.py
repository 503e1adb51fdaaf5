"""`app.concepts`: the app's concepts (ListConcepts, GetConcept, PostConcepts, PatchConcepts,
PostConceptsSearches)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from modelwire._core.errors import NotFoundError
from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai.app import App
from modelwire.clarifai.errors import UserError
from modelwire.clarifai.legacy._wire import DEFAULT_PER_PAGE, search_items
from modelwire.clarifai.legacy.types import Concept, id_list


def _names(concept_names: Sequence[str | None] | None, count: int) -> list[str | None]:
    if concept_names is None:
        return [None] * count
    if isinstance(concept_names, str) or len(concept_names) != count:
        raise UserError(
            f"concept_names must be a list with one name per concept id ({count}), got {concept_names!r}"
        )
    return list(concept_names)


class Concepts:
    """The concepts of the app (`app.concepts`)."""

    def __init__(self, api: App) -> None:
        self.api = api

    def bulk_create(
        self, concept_ids: Sequence[str], concept_names: Sequence[str | None] | None = None
    ) -> list[Concept]:
        """Create concepts; a concept without a name is named by its id."""
        ids = id_list(concept_ids, "concept_ids")
        names = _names(concept_names, len(ids))
        concepts = [resources_pb2.Concept(id=i, name=n or i) for i, n in zip(ids, names, strict=True)]
        response = self.api._request("PostConcepts", concepts=concepts)
        return [Concept._from_proto(c) for c in response.concepts]

    def create(self, concept_id: str, concept_name: str | None = None) -> Concept:
        """Create one concept (PostConcepts); named by its id when no name is given.

        Returns:
            The created `Concept`.

        Raises:
            UserError: The id is empty.
            ApiError: The API refused it (e.g. the id exists already).
        """
        return self.bulk_create([concept_id], [concept_name])[0]

    def bulk_update(
        self, concept_ids: Sequence[str], concept_names: Sequence[str], action: str = "overwrite"
    ) -> list[Concept]:
        """Rename concepts (the API patches concepts only with action='overwrite')."""
        if action != "overwrite":
            raise UserError(f"concepts can only be updated with action='overwrite', got {action!r}")
        ids = id_list(concept_ids, "concept_ids")
        names = _names(concept_names, len(ids))
        if not all(names):
            raise UserError("bulk_update needs a new, non-empty name for every concept")
        concepts = [resources_pb2.Concept(id=i, name=n or "") for i, n in zip(ids, names, strict=True)]
        response = self.api._request("PatchConcepts", concepts=concepts, action=action)
        return [Concept._from_proto(c) for c in response.concepts]

    def update(self, concept_id: str, concept_name: str, action: str = "overwrite") -> Concept:
        """Rename one concept (PatchConcepts; the API patches concepts only with action="overwrite").

        Returns:
            The updated `Concept`.

        Raises:
            UserError: `action` is not "overwrite", or the name is empty.
            ApiError: No such concept, or the call failed.
        """
        return self.bulk_update([concept_id], [concept_name], action)[0]

    def get(self, concept_id: str) -> Concept | None:
        """The concept, or None when the app has no such concept."""
        try:
            return Concept._from_proto(self.api._request("GetConcept", concept_id=concept_id).concept)
        except NotFoundError:
            return None

    def get_all(self) -> Iterator[Concept]:
        """Every concept of the app, fetched lazily page by page."""
        return self.api._list("ListConcepts", Concept._from_proto, items_field="concepts")

    def get_by_page(self, page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> list[Concept]:
        """One page of the app's concepts.

        Args:
            page: The page number (1-based).
            per_page: Concepts per page.

        Returns:
            The page's `Concept`s (empty past the last page).
        """
        return list(
            self.api._list(
                "ListConcepts", Concept._from_proto, page_no=page, per_page=per_page, items_field="concepts"
            )
        )

    def search(self, term: str, lang: str | None = None) -> Iterator[Concept]:
        """Concepts whose name matches `term` (`*` matches any run of characters), lazily."""
        if not isinstance(term, str) or not term:
            raise UserError(f"term must be a non-empty str (wildcards allowed), got {term!r}")
        query = resources_pb2.ConceptQuery(name=term, language=lang or "")
        return search_items(
            self.api, "PostConceptsSearches", Concept._from_proto, items_field="concepts", concept_query=query
        )
