"""Predictions of the Clarifai emulator: what a model reads, what it returns, and output settings.

A `Sample` is what one input gives a model: its text or image (fetched like uploaded content, see
`content.process_input`: base64, ``file://`` or loopback URLs only) with the general embedding of
it (a text's is computed only when a model reads it), or a bare embedding (an input whose data has
only `embeddings`, or an upstream embedder's output in a workflow). A `Predictor` turns a sample
into output `Data`; problems with one input raise `PredictionError`, which becomes that output's
status:

* INPUT_DOWNLOAD_FAILED: the content cannot be fetched or decoded (as for PostInputs);
* INPUT_UNSUPPORTED_FORMAT: no text/image content, or not the kind the model reads;
* MODEL_PREDICTION_FAILED: anything else that goes wrong in the model.

`OutputSettings` layer the version's defaults (`output_info.output_config` and
`output_info.params`) under the request's overrides (a field set in a later layer wins):
``min_value`` drops concepts scoring below it, ``max_concepts`` keeps the best N (default 20),
``select_concepts`` returns exactly those concepts (by id or name) whatever their score, and the
inference param ``temperature`` divides a trained classifier's logits before the softmax/sigmoid.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from modelwire._gen.clarifai.api import resources_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire._gen.google.protobuf import timestamp_pb2
from modelwire.emulator.clarifai.content import content_kinds, has_content, process_input
from modelwire.emulator.clarifai.embeddings import IMAGE_DIM, TEXT_DIM, embed_text
from modelwire.emulator.clarifai.failures import ApiFailure, Code, S, status
from modelwire.emulator.clarifai.labels import new_id
from modelwire.emulator.clarifai.learning import LinearModel
from modelwire.emulator.clarifai.model_types import IMAGE, TEMPERATURE, TEMPERATURE_PARAM, TEXT

EMBEDDING = "embedding"  # the kind of a sample that is only a vector
SUCCESS = S.SUCCESS  # looked up once: each S.<name> runs Python code (EnumTypeWrapper.__getattr__)
_SUCCESS = status(SUCCESS)  # only ever copied from
DEFAULT_MAX_CONCEPTS = 20
Scored = tuple[str, str, float]  # concept id, name, score


class PredictionError(Exception):
    """One input cannot be predicted; becomes its output's status."""

    def __init__(self, code: Code, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details

    def status(self) -> status_pb2.Status:
        return status(self.code, self.details)


class Sample:
    """What a model reads: kind ("text", "image" or "embedding"), content (UTF-8 text or the encoded
    image) and vector, the general embedding. A text's vector is computed when first read: most
    text models (the concept classifiers) never read it, and embedding is most of their cost."""

    __slots__ = ("_vector", "content", "kind")

    def __init__(self, kind: str, content: bytes = b"", vector: NDArray[np.float32] | None = None) -> None:
        self.kind = kind
        self.content = content
        self._vector = vector

    @property
    def vector(self) -> NDArray[np.float32] | None:
        if self._vector is None and self.kind == TEXT:
            self._vector = embed_text(self.content.decode("utf-8"))
        return self._vector


def sample_of(item: resources_pb2.Input) -> Sample:
    """The sample of a request input (PredictionError when it has no usable content)."""
    data = item.data
    kinds = content_kinds(data)
    if not kinds and data.embeddings:
        return Sample(EMBEDDING, vector=np.asarray(data.embeddings[0].vector, dtype=np.float32))
    if len(kinds) != 1 or kinds[0] not in (TEXT, IMAGE) or not has_content(data, kinds[0]):
        got = " and ".join(kinds) or "no content"
        raise PredictionError(
            S.INPUT_UNSUPPORTED_FORMAT,
            f"input {item.id!r} needs one data.text (raw or url) or data.image (base64 or url); got {got}",
        )
    if kinds[0] == TEXT and data.text.raw:  # what process_input gives raw text, without its copy
        return Sample(TEXT, data.text.raw.encode("utf-8"))
    outcome = process_input(item, kinds[0])
    if not outcome.ok:
        raise PredictionError(outcome.status.code, f"input {item.id!r}: {outcome.status.details}")
    assert outcome.content is not None
    return Sample(kinds[0], outcome.content, outcome.vector)


def unsupported(model_id: str, reads: str, sample: Sample) -> PredictionError:
    return PredictionError(
        S.INPUT_UNSUPPORTED_FORMAT, f"model {model_id!r} reads {reads} inputs, this input is {sample.kind}"
    )


_ID, _SCORE = operator.itemgetter(0), operator.itemgetter(2)


@dataclass(frozen=True)
class OutputSettings:
    min_value: float = 0.0
    max_concepts: int = DEFAULT_MAX_CONCEPTS
    select: frozenset[str] = frozenset()
    temperature: float = 1.0

    def over(self, info: resources_pb2.OutputInfo) -> OutputSettings:
        """These settings with what `info` sets (ValueError for an invalid inference param)."""
        config = info.output_config
        result = self
        if config.min_value:
            result = replace(result, min_value=float(config.min_value))
        if config.max_concepts:
            result = replace(result, max_concepts=int(config.max_concepts))
        if config.select_concepts:
            select = {c.id for c in config.select_concepts} | {c.name for c in config.select_concepts}
            result = replace(result, select=frozenset(select - {""}))
        if TEMPERATURE in info.params.fields:
            result = replace(
                result, temperature=float(TEMPERATURE_PARAM.read(info.params.fields[TEMPERATURE]))
            )
        return result

    def pick(self, scored: Iterable[Scored], data: resources_pb2.Data) -> None:
        """Put the concepts to return in `data` (without concepts yet), best first."""
        # Best first, ties by id: sorted by id, then (stably) by score descending.
        ranked = sorted(sorted(scored, key=_ID), key=_SCORE, reverse=True)
        if self.select:
            chosen = [s for s in ranked if s[0] in self.select or s[1] in self.select]
        else:
            chosen = [s for s in ranked if s[2] >= self.min_value][: self.max_concepts]
        data.MergeFromString(_concepts_wire(tuple(chosen)))


@functools.lru_cache(maxsize=1024)
def _concepts_wire(chosen: tuple[Scored, ...]) -> bytes:
    """`Data` with these concepts, serialized. The concept models give most content the same few
    score lists (a text's scores are small fractions), so most predictions reuse the bytes instead
    of building a message per concept (most of a prediction's cost)."""
    data = resources_pb2.Data()
    for i, n, v in chosen:
        data.concepts.add(id=i, name=n, value=v)
    return data.SerializeToString()


def settings_of(*layers: resources_pb2.OutputInfo) -> OutputSettings:
    settings = OutputSettings()
    for info in layers:
        settings = settings.over(info)
    return settings


class Predictor(Protocol):
    """What a model computes for one sample, written into its output's (empty) `data`
    (PredictionError for this input's problems)."""

    def predict(self, sample: Sample, settings: OutputSettings, data: resources_pb2.Data) -> None: ...

    def reads_embeddings(self, dim: int) -> bool:
        """Whether it can take an upstream embedding of this size instead of the input itself."""
        ...

    def embedding_dim(self) -> int | None:
        """The size of the embeddings it outputs (None: it outputs no embeddings)."""
        ...


@dataclass(frozen=True)
class Embedder:
    """The general text or image embedding (the vectors search uses)."""

    model_id: str
    kind: str

    def predict(self, sample: Sample, settings: OutputSettings, data: resources_pb2.Data) -> None:
        if sample.kind != self.kind or sample.vector is None:
            raise unsupported(self.model_id, self.kind, sample)
        vector = sample.vector
        data.embeddings.add(vector=vector.tolist(), num_dimensions=int(vector.shape[0]))

    def reads_embeddings(self, dim: int) -> bool:
        return False

    def embedding_dim(self) -> int | None:
        return TEXT_DIM if self.kind == TEXT else IMAGE_DIM


class ContentScorer(Protocol):
    def __call__(self, content: bytes) -> Sequence[Scored]: ...


@dataclass(frozen=True)
class ConceptModel:
    """A classifier computed from the content itself (the built-in recognition models)."""

    model_id: str
    kind: str
    score: ContentScorer

    def predict(self, sample: Sample, settings: OutputSettings, data: resources_pb2.Data) -> None:
        if sample.kind != self.kind:
            raise unsupported(self.model_id, self.kind, sample)
        settings.pick(self.score(sample.content), data)

    def reads_embeddings(self, dim: int) -> bool:
        return False

    def embedding_dim(self) -> int | None:
        return None


@dataclass(frozen=True)
class TrainedClassifier:
    """A trained linear classifier over the general embedding of its modality."""

    model_id: str
    model: LinearModel
    names: dict[str, str]

    def vector(self, sample: Sample) -> NDArray[np.float32]:
        if sample.kind == EMBEDDING and sample.vector is not None:
            if sample.vector.shape != (self.model.dim,):
                raise PredictionError(
                    S.INPUT_UNSUPPORTED_FORMAT,
                    f"model {self.model_id!r} reads {self.model.dim}-dimensional embeddings, "
                    f"got {sample.vector.shape[0]}",
                )
            return sample.vector
        if sample.kind != self.model.modality or sample.vector is None:
            raise unsupported(self.model_id, f"{self.model.modality} (or embedding)", sample)
        return sample.vector

    def predict(self, sample: Sample, settings: OutputSettings, data: resources_pb2.Data) -> None:
        scores = self.model.scores(self.vector(sample), settings.temperature)[0]
        ids = self.model.concept_ids
        settings.pick(((c, self.names.get(c, c), float(s)) for c, s in zip(ids, scores, strict=True)), data)

    def reads_embeddings(self, dim: int) -> bool:
        return dim == self.model.dim

    def embedding_dim(self) -> int | None:
        return None


def model_ref(model: resources_pb2.Model) -> resources_pb2.Model:
    """How outputs name the model that made them."""
    return resources_pb2.Model(
        id=model.id,
        app_id=model.app_id,
        user_id=model.user_id,
        model_type_id=model.model_type_id,
        model_version=resources_pb2.ModelVersion(id=model.model_version.id),
    )


def request_inputs(
    inputs: Sequence[resources_pb2.Input], limit: int, code: Code
) -> list[resources_pb2.Input]:
    """A request's inputs (1 to `limit`, else ApiFailure `code`), each with an id: one without is
    a copy given a new id (the request stays as sent), the others are the request's own, only read."""
    if not 1 <= len(inputs) <= limit:
        raise ApiFailure(
            code, f"send 1 to {limit} inputs per request, got {len(inputs)}: split them into batches"
        )
    with_ids = []
    for item in inputs:
        if not item.id:
            copy = resources_pb2.Input()
            copy.CopyFrom(item)
            copy.id = new_id()
            item = copy
        with_ids.append(item)
    return with_ids


def finish(
    output: resources_pb2.Output,
    ref: resources_pb2.Model,
    item: resources_pb2.Input,
    created: timestamp_pb2.Timestamp,
) -> resources_pb2.Output:
    """Complete an output with what it lacks of its id, time, model (`ref`: the model_ref of the
    model that made it, made once per request) and input."""
    output.id = output.id or new_id()
    if not output.HasField("created_at"):
        output.created_at.CopyFrom(created)
    if not output.HasField("model"):
        output.model.CopyFrom(ref)
    if not output.HasField("input"):
        output.input.CopyFrom(item)
    return output


def run(
    predictor: Predictor,
    sample: Sample | PredictionError,
    settings: OutputSettings,
    output: resources_pb2.Output,
) -> resources_pb2.Output:
    """`output` (a new one) with the status and data for one sample (model, input and created_at
    are the caller's to set)."""
    try:
        if isinstance(sample, PredictionError):
            raise sample
        predictor.predict(sample, settings, output.data)
    except PredictionError as failure:
        output.ClearField("data")  # a failed input has no data, even if the model began to write
        output.status.CopyFrom(failure.status())
        return output
    except Exception as exc:  # a model bug: this input fails, visibly
        output.ClearField("data")
        details = f"{type(exc).__name__}: {exc}"
        output.status.CopyFrom(status(S.MODEL_PREDICTION_FAILED, details))
        return output
    output.status.CopyFrom(_SUCCESS)
    return output


def try_sample(item: resources_pb2.Input) -> Sample | PredictionError:
    try:
        return sample_of(item)
    except PredictionError as failure:
        return failure
