"""Concept relations of the Clarifai emulator: PostConceptRelations, ListConceptRelations and
DeleteConceptRelations (PAT only, as on the real API).

A relation is a stored record: subject concept, predicate and object concept of the app, and a
knowledge graph id ("" is the app's own graph; any other id is kept as given, since knowledge
graphs themselves are not emulated). The predicates read as Clarifai documents them: "hyponym"
(the subject is a kind of the object), "hypernym" (the subject is a parent of the object) and
"synonym". One record is also its inverse: listed for a concept, a relation of which the concept
is the object comes back seen from it (subject and object swapped, hyponym and hypernym
exchanged, the same id).

* PostConceptRelations: `concept_id` is the subject; each relation names an existing
  `object_concept.id` other than the subject and a valid predicate; an id is generated unless
  given. A relation that exists already (itself or its inverse, in the same knowledge graph), or
  twice in the request, is CONCEPTS_INVALID_REQUEST; an unknown concept is CONN_DOES_NOT_EXIST.
  Nothing is stored unless all are good.
* ListConceptRelations: with `concept_id` (an existing concept), its relations seen from it; without,
  every relation of the app once, as stored, except that a `predicate` filter also returns the
  stored inverse relations seen the asked way (a stored hyponym listed as a hypernym). Filtered by
  `predicate` and `knowledge_graph_id` when set; newest first; `page`/`per_page` as every List.
* DeleteConceptRelations: `ids` of relations of `concept_id` (as subject or object); all must be, or
  nothing is deleted (CONN_DOES_NOT_EXIST).

Concepts are shown as the app stores them now (a renamed concept shows its new name).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.context import Context, Route
from modelwire.emulator.clarifai.failures import ApiFailure, S
from modelwire.emulator.clarifai.labels import new_id
from modelwire.emulator.clarifai.records import (
    CONCEPT,
    CONCEPT_RELATION,
    IN_APP,
    NEWEST_FIRST,
    Owner,
    check_id,
    missing,
    request_page,
)

HYPONYM, HYPERNYM, SYNONYM = "hyponym", "hypernym", "synonym"
INVERSE = {HYPONYM: HYPERNYM, HYPERNYM: HYPONYM, SYNONYM: SYNONYM}
Relation = resources_pb2.ConceptRelation
_PREDICATES = "use 'hyponym', 'hypernym' or 'synonym'"


def inverse(relation: Relation) -> Relation:
    """The same relation seen from its object."""
    seen = Relation()
    seen.CopyFrom(relation)
    seen.subject_concept.CopyFrom(relation.object_concept)
    seen.object_concept.CopyFrom(relation.subject_concept)
    seen.predicate = INVERSE[relation.predicate]
    return seen


def seen_from(relation: Relation, concept_id: str) -> Relation | None:
    """The relation as listed for `concept_id` (None when the concept is not in it)."""
    if relation.subject_concept.id == concept_id:
        return relation
    if relation.object_concept.id == concept_id:
        return inverse(relation)
    return None


def _key(relation: Relation) -> tuple[str, str, str, str]:
    """What makes two relations the same one (an inverse is keyed alike)."""
    subject, obj, predicate = relation.subject_concept.id, relation.object_concept.id, relation.predicate
    if predicate == HYPERNYM or (predicate == SYNONYM and obj < subject):
        subject, obj, predicate = obj, subject, INVERSE[predicate]
    return subject, obj, predicate, relation.knowledge_graph_id


class ConceptRelationsArea:
    def __init__(self, ctx: Context) -> None:
        self._records = ctx.records

    def routes(self) -> dict[str, Route]:
        return {
            "PostConceptRelations": Route(Scope.PAT_APP, self.post_concept_relations),
            "ListConceptRelations": Route(Scope.PAT_APP, self.list_concept_relations),
            "DeleteConceptRelations": Route(Scope.PAT_APP, self.delete_concept_relations),
        }

    # -- storage ---------------------------------------------------------------------------------------

    def _stored(self, owner: Owner) -> list[Relation]:
        """Every relation of the app, newest first."""
        rows = self._records.store.query(
            f"SELECT proto FROM clarifai_objects WHERE kind = ? AND {IN_APP} ORDER BY {NEWEST_FIRST}",
            (CONCEPT_RELATION.name, *owner),
        )
        return [Relation.FromString(r["proto"]) for r in rows]

    def _concepts(self, owner: Owner, ids: Iterable[str]) -> dict[str, resources_pb2.Concept]:
        wanted = sorted(set(ids))
        rows = self._records.rows_in("clarifai_objects", owner, "id", wanted, "kind, proto")
        found = (resources_pb2.Concept.FromString(r["proto"]) for r in rows if r["kind"] == CONCEPT.name)
        return {concept.id: concept for concept in found}

    def _require_concept(self, owner: Owner, concept_id: str) -> None:
        if not concept_id:
            raise ApiFailure(S.CONCEPTS_INVALID_REQUEST, "concept_id is required: name the subject concept")
        self._records.require(CONCEPT, owner, concept_id, resources_pb2.Concept)

    def _render(self, owner: Owner, relations: Sequence[Relation]) -> list[Relation]:
        """The relations with their concepts as the app has them now."""
        concepts = self._concepts(
            owner, [c.id for r in relations for c in (r.subject_concept, r.object_concept)]
        )
        shown = []
        for relation in relations:
            copy = Relation()
            copy.CopyFrom(relation)
            for part in (copy.subject_concept, copy.object_concept):
                if part.id in concepts:
                    part.CopyFrom(concepts[part.id])
            shown.append(copy)
        return shown

    # -- RPCs ------------------------------------------------------------------------------------------

    def post_concept_relations(
        self, caller: Caller, request: service_pb2.PostConceptRelationsRequest
    ) -> service_pb2.MultiConceptRelationResponse:
        owner = caller.owner
        subject = request.concept_id
        self._require_concept(owner, subject)
        if not request.concept_relations:
            raise ApiFailure(S.CONCEPTS_INVALID_REQUEST, "no concept_relations given: send at least one")
        given = []
        for index, item in enumerate(request.concept_relations):
            where = f"concept_relations[{index}]"
            if item.subject_concept.id and item.subject_concept.id != subject:
                raise ApiFailure(
                    S.CONCEPTS_INVALID_REQUEST,
                    f"{where}.subject_concept.id {item.subject_concept.id!r} differs from concept_id "
                    f"{subject!r}: leave it empty (the subject is concept_id)",
                )
            if item.predicate not in INVERSE:
                raise ApiFailure(
                    S.CONCEPTS_INVALID_REQUEST,
                    f"{where}.predicate {item.predicate!r} is unknown: {_PREDICATES}",
                )
            obj = item.object_concept.id
            if not obj:
                raise ApiFailure(S.CONCEPTS_INVALID_REQUEST, f"{where}.object_concept.id is required")
            if obj == subject:
                raise ApiFailure(
                    S.CONCEPTS_INVALID_REQUEST, f"{where}: a concept cannot be related to itself ({obj!r})"
                )
            relation = Relation(
                id=item.id or new_id(),
                subject_concept=resources_pb2.Concept(id=subject),
                object_concept=resources_pb2.Concept(id=obj),
                predicate=item.predicate,
                knowledge_graph_id=item.knowledge_graph_id,
            )
            if item.HasField("visibility"):
                relation.visibility.CopyFrom(item.visibility)
            check_id(CONCEPT_RELATION, relation.id)
            given.append(relation)
        objects = {r.object_concept.id for r in given}
        absent = sorted(objects - set(self._concepts(owner, objects)))
        if absent:
            raise missing(CONCEPT, absent, self._records.where(owner))
        ids = [r.id for r in given]
        with self._records.store.transaction() as conn:  # checked and stored together
            taken = self._records.existing_ids(CONCEPT_RELATION, owner, ids) | {
                i for i in ids if ids.count(i) > 1
            }
            if taken:
                raise ApiFailure(
                    S.CONCEPTS_INVALID_REQUEST,
                    f"concept relation id(s) {sorted(taken)} are taken (or repeated): use new ids or none",
                )
            known = {_key(r): r.id for r in self._stored(owner)}
            for relation in given:
                key = _key(relation)
                if key in known:
                    raise ApiFailure(
                        S.CONCEPTS_INVALID_REQUEST,
                        f"{subject!r} {relation.predicate} {relation.object_concept.id!r} exists already "
                        f"(concept relation {known[key]!r}, or its inverse)",
                    )
                known[key] = relation.id
            for relation in given:
                self._records.save(
                    conn, CONCEPT_RELATION, owner, relation, created_ns=self._records.now(), replace=False
                )
        return service_pb2.MultiConceptRelationResponse(concept_relations=self._render(owner, given))

    def list_concept_relations(
        self, caller: Caller, request: service_pb2.ListConceptRelationsRequest
    ) -> service_pb2.MultiConceptRelationResponse:
        owner = caller.owner
        predicate = request.predicate
        if predicate and predicate not in INVERSE:
            raise ApiFailure(
                S.CONCEPTS_INVALID_REQUEST,
                f"predicate {predicate!r} is unknown: {_PREDICATES} (or none)",
            )
        stored = self._stored(owner)
        if request.concept_id:
            self._require_concept(owner, request.concept_id)
            seen = [s for s in (seen_from(r, request.concept_id) for r in stored) if s is not None]
        elif predicate:
            # All relations once, but asked by predicate the inverse ones count too, turned around.
            turned = (r if r.predicate == predicate else inverse(r) for r in stored)
            seen = [r for r in turned if r.predicate == predicate]
        else:
            seen = stored
        matches = [
            r
            for r in seen
            if (not predicate or r.predicate == predicate)
            and (not request.knowledge_graph_id or r.knowledge_graph_id == request.knowledge_graph_id)
        ]
        page = request_page(request)
        shown = self._render(owner, matches[page.offset : page.offset + page.per_page])
        return service_pb2.MultiConceptRelationResponse(concept_relations=shown)

    def delete_concept_relations(
        self, caller: Caller, request: service_pb2.DeleteConceptRelationsRequest
    ) -> status_pb2.BaseResponse:
        owner = caller.owner
        self._require_concept(owner, request.concept_id)
        ids = list(dict.fromkeys(request.ids))
        if not ids:
            raise ApiFailure(S.CONCEPTS_INVALID_REQUEST, "no ids given: list the concept relations to delete")
        with self._records.store.transaction():
            of_concept = {r.id for r in self._stored(owner) if seen_from(r, request.concept_id) is not None}
            absent = [i for i in ids if i not in of_concept]
            if absent:
                place = f"the relations of concept {request.concept_id!r} in {self._records.where(owner)}"
                raise missing(CONCEPT_RELATION, absent, place)
            self._records.delete(CONCEPT_RELATION, owner, ids)
        return status_pb2.BaseResponse()
