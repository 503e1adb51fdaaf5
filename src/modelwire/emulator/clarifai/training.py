"""Training of model versions: labelled examples, and the training worker.

A version trains on the inputs of ``train_info.params.dataset_id``: its current inputs, or the
snapshot of ``dataset_version_id`` (`DatasetRef`). Without a dataset (no or an empty
``dataset_id``) it trains on the app's inputs labelled with its concepts (`AppRef`): the
processed inputs whose input-level ``data.concepts`` or successful annotations (their own concepts
or their regions') give any of the version's ``output_info.data.concepts`` a value > 0.

An example is an input whose processing succeeded, with its general embedding (text inputs: the
text embedding; images: the image embedding) and its positive concepts (``data.concepts`` with
value > 0; a snapshot also folds in the concepts of its other annotations, and the app's labelled
inputs those of their successful annotations). A text-classifier reads text inputs, a
visual-classifier images; an embedding-classifier reads the modality that most labelled inputs
have (text on a tie).

The inputs `learning.held_out` puts in the evaluation split (20%, by a hash of the input id) are
never trained on; evaluations without a ground-truth dataset use exactly them.

Training fails (MODEL_TRAINING_FAILED, with the reason in the details) when the dataset or
version does not exist, there are no usable inputs, or a listed concept has no positive example
(or only held-out ones).
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.emulator.clarifai.content import Hosting
from modelwire.emulator.clarifai.context import Context
from modelwire.emulator.clarifai.embeddings import EmbeddingError, embed_image, embed_text
from modelwire.emulator.clarifai.failures import S, status
from modelwire.emulator.clarifai.indexing import label_concepts
from modelwire.emulator.clarifai.jobs import JobFailed, Phases, Timing, run_phases
from modelwire.emulator.clarifai.learning import (
    CENTROID,
    LinearModel,
    TrainingSet,
    held_out,
    train_logistic_regression,
    train_nearest_centroid,
)
from modelwire.emulator.clarifai.model_types import (
    DATASET_ID,
    DATASET_VERSION_ID,
    IMAGE,
    MODEL_TYPES,
    TEXT,
    TrainingPlan,
    text_param,
    training_plan,
)
from modelwire.emulator.clarifai.records import (
    DATASET,
    DATASET_VERSION,
    IN_APP,
    MODEL_VERSION,
    Owner,
    Records,
)
from modelwire.emulator.clarifai.registry import Registry

TRAINING = Phases(running=S.MODEL_TRAINING, failed=S.MODEL_TRAINING_FAILED)
_LIVE = f"""SELECT i.id AS id, i.kind AS kind, i.content_sha AS sha, i.vector AS vector, i.proto AS proto
    FROM clarifai_dataset_inputs d JOIN clarifai_inputs i
    ON i.user_id = d.user_id AND i.app_id = d.app_id AND i.id = d.id
    WHERE d.user_id = ? AND d.app_id = ? AND d.dataset_id = ? AND i.status = {S.INPUT_DOWNLOAD_SUCCESS}
    AND i.kind IN ('{TEXT}', '{IMAGE}') ORDER BY d.created_ns, d.id"""
_SNAPSHOT = f"""SELECT id, kind, content_sha AS sha, NULL AS vector, proto FROM clarifai_version_inputs
    WHERE {IN_APP} AND dataset_id = ? AND version_id = ? AND embedded = 1
    AND kind IN ('{TEXT}', '{IMAGE}') ORDER BY created_ns, id"""
_APP_INPUTS = f"""SELECT *, content_sha AS sha FROM clarifai_inputs
    WHERE {IN_APP} AND status = {S.INPUT_DOWNLOAD_SUCCESS} AND kind IN ('{TEXT}', '{IMAGE}')
    ORDER BY created_ns, id"""
_APP_LABELS = f"""SELECT input_id, proto FROM clarifai_annotations
    WHERE {IN_APP} AND status = {S.ANNOTATION_SUCCESS}"""


@dataclass(frozen=True)
class Example:
    input: resources_pb2.Input  # as stored (hosted URLs not rendered)
    kind: str
    sha: str | None
    vector: NDArray[np.float32]
    concepts: frozenset[str]  # positive concept ids


@dataclass(frozen=True)
class DatasetRef:
    owner: Owner
    dataset_id: str
    version_id: str = ""

    def __str__(self) -> str:
        version = f" version {self.version_id!r}" if self.version_id else ""
        return f"dataset {self.dataset_id!r}{version}"


@dataclass(frozen=True)
class AppRef:
    """The app's inputs labelled with any of `concept_ids`: what a version without a dataset
    trains on."""

    owner: Owner
    concept_ids: tuple[str, ...]

    def __str__(self) -> str:
        labels = " or ".join(map(repr, self.concept_ids)) or "no concept"
        return f"app {self.owner.app_id!r} (no dataset_id: its inputs labelled with {labels})"


TrainingRef = DatasetRef | AppRef


def app_labelled(records: Records, ref: AppRef) -> list[tuple[sqlite3.Row, frozenset[str]]]:
    """The app's processed text and image inputs labelled (value > 0) with any of the concepts of
    `ref`, by their input-level concepts or an annotation, oldest first: each input's row (all
    columns of clarifai_inputs, and `sha`) with its positive concept ids."""
    annotated: defaultdict[str, set[str]] = defaultdict(set)
    for row in records.store.query(_APP_LABELS, ref.owner):
        data = resources_pb2.Annotation.FromString(row["proto"]).data
        annotated[row["input_id"]].update(c.id for c in label_concepts(data) if c.value > 0)
    wanted = set(ref.concept_ids)
    result = []
    for row in records.store.query(_APP_INPUTS, ref.owner):
        item = resources_pb2.Input.FromString(row["proto"])
        own = {c.id for c in item.data.concepts if c.value > 0}
        positive = frozenset(own | annotated.get(row["id"], set()))
        if positive & wanted:
            result.append((row, positive))
    return result


class Examples:
    """Loads the labelled examples of a dataset or an app (JobFailed when they cannot be had)."""

    def __init__(self, records: Records, hosting: Hosting) -> None:
        self._records = records
        self._hosting = hosting

    def load(self, ref: TrainingRef) -> list[Example]:
        if isinstance(ref, AppRef):
            return [self._example(row, positive) for row, positive in app_labelled(self._records, ref)]
        owner = ref.owner
        if self._records.get(DATASET, owner, ref.dataset_id, resources_pb2.Dataset) is None:
            raise JobFailed(f"dataset {ref.dataset_id!r} does not exist in {self._records.where(owner)}")
        if ref.version_id:
            version = self._records.get(
                DATASET_VERSION, owner, ref.version_id, resources_pb2.DatasetVersion, ref.dataset_id
            )
            if version is None:
                raise JobFailed(f"{ref} does not exist in {self._records.where(owner)}")
            rows = self._records.store.query(_SNAPSHOT, (*owner, ref.dataset_id, ref.version_id))
        else:
            rows = self._records.store.query(_LIVE, (*owner, ref.dataset_id))
        return [self._example(row) for row in rows]

    def _example(self, row: sqlite3.Row, positive: frozenset[str] | None = None) -> Example:
        item = resources_pb2.Input.FromString(row["proto"])
        kind, sha, stored = row["kind"], row["sha"], row["vector"]
        vector = (
            np.frombuffer(stored, dtype=np.float32) if stored is not None else self._embed(item, kind, sha)
        )
        if positive is None:
            positive = frozenset(c.id for c in item.data.concepts if c.value > 0)
        return Example(item, kind, sha, vector, positive)

    def _embed(self, item: resources_pb2.Input, kind: str, sha: str | None) -> NDArray[np.float32]:
        if kind == TEXT:
            return embed_text(item.data.text.raw)
        content = self._hosting.blob(sha) if sha else None
        if content is None:
            raise JobFailed(f"the content of input {item.id!r} is gone")
        try:
            return embed_image(content)
        except EmbeddingError as exc:
            raise JobFailed(f"input {item.id!r}: {exc}") from None


def modality_of(type_id: str, examples: Sequence[Example], concept_ids: Sequence[str]) -> str:
    """What a model of this type reads: its type's modality, or (embedding-classifier) the one most
    labelled examples have."""
    fixed = MODEL_TYPES[type_id].modality
    if fixed:
        return fixed
    wanted = set(concept_ids)
    counts = Counter(e.kind for e in examples if e.concepts & wanted)
    return IMAGE if counts[IMAGE] > counts[TEXT] else TEXT


def labelled(examples: Sequence[Example], concept_ids: Sequence[str]) -> NDArray[np.bool_]:
    return np.array([[c in e.concepts for c in concept_ids] for e in examples], dtype=bool).reshape(
        len(examples), len(concept_ids)
    )


def training_set(
    examples: Sequence[Example], concept_ids: Sequence[str], modality: str, ref: TrainingRef
) -> TrainingSet:
    """The examples to train on (JobFailed says why there are none fit for it)."""
    usable = [e for e in examples if e.kind == modality]
    if not usable:
        raise JobFailed(f"{ref} has no successfully processed {modality} inputs to train on")
    train = [e for e in usable if not held_out(e.input.id)]
    for concept in concept_ids:
        positives = sum(concept in e.concepts for e in usable)
        if not positives:
            raise JobFailed(
                f"no positive examples for concept {concept!r} in {ref}: label some of its {modality} "
                "inputs with it (data.concepts with value > 0)"
            )
        if not any(concept in e.concepts for e in train):
            raise JobFailed(
                f"all {positives} positive examples of concept {concept!r} in {ref} are in the held-out "
                "evaluation split (20% of inputs, chosen by input id): add more examples"
            )
    x = np.stack([e.vector for e in train]).astype(np.float64)
    return TrainingSet(tuple(concept_ids), x, labelled(train, concept_ids), modality)


def fit(data: TrainingSet, plan: TrainingPlan, exclusive: bool) -> LinearModel:
    values = plan.values
    if plan.template == CENTROID:
        return train_nearest_centroid(data, exclusive=exclusive, sharpness=float(values["sharpness"]))
    return train_logistic_regression(
        data,
        exclusive=exclusive,
        learning_rate=float(values["learning_rate"]),
        epochs=int(values["epochs"]),
        l2=float(values["l2"]),
        balanced=bool(values["balanced"]),
    )


def training_ref(owner: Owner, version: resources_pb2.ModelVersion) -> TrainingRef:
    """What a version trains on: its dataset, or without one the app's inputs labelled with its
    concepts."""
    params = version.train_info.params
    dataset_id = text_param(params, DATASET_ID)
    if not dataset_id:
        return AppRef(owner, tuple(c.id for c in version.output_info.data.concepts))
    return DatasetRef(owner, dataset_id, text_param(params, DATASET_VERSION_ID))


class Trainer:
    def __init__(self, ctx: Context, registry: Registry, examples: Examples, timing: Timing) -> None:
        self._ctx = ctx
        self._registry = registry
        self._examples = examples
        self._timing = timing

    def submit(self, owner: Owner, model_id: str, version_id: str) -> None:
        self._ctx.workers.submit(self._train, owner, model_id, version_id)

    def resume(self) -> None:
        """Train again the versions a previous run left queued or training (file-backed store)."""
        busy = (str(S.MODEL_QUEUED_FOR_TRAINING), str(S.MODEL_TRAINING))
        rows = self._ctx.records.store.query(
            "SELECT user_id, app_id, parent, id FROM clarifai_objects WHERE kind = ? AND facet IN (?, ?) "
            "ORDER BY created_ns",
            (MODEL_VERSION.name, *busy),
        )
        for row in rows:
            owner = Owner(row["user_id"], row["app_id"])
            self._registry.set_status(owner, row["parent"], row["id"], status(S.MODEL_QUEUED_FOR_TRAINING))
            self.submit(owner, row["parent"], row["id"])

    def _train(self, owner: Owner, model_id: str, version_id: str) -> None:
        run_phases(
            self._ctx,
            self._timing,
            TRAINING,
            lambda new: self._registry.set_status(owner, model_id, version_id, new),
            lambda: self._work(owner, model_id, version_id),
            f"training version {version_id} of model {model_id}",
        )

    def _work(self, owner: Owner, model_id: str, version_id: str) -> None:
        model = self._registry.model(owner, model_id)
        version = self._registry.version(owner, model_id, version_id)
        concept_ids = [c.id for c in version.output_info.data.concepts]
        ref = training_ref(owner, version)
        examples = self._examples.load(ref)
        modality = modality_of(model.model_type_id, examples, concept_ids)
        data = training_set(examples, concept_ids, modality, ref)
        plan = training_plan(version.train_info.params)
        exclusive = version.output_info.output_config.concepts_mutually_exclusive
        weights = fit(data, plan, exclusive)
        self._registry.store_trained(owner, model_id, version_id, weights, len(data.x))
