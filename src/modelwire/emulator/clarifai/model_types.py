"""Model types of the Clarifai emulator (ListModelTypes / GetModelType) and their parameters.

Each trainable type describes its parameters in `model_type_fields`, shaped as the published SDK
parses them (`list_training_templates`, `get_params`, `get_param_info`):

* ``train_info.params.dataset_id`` / ``dataset_version_id`` and ``output_info.data.concepts``:
  what to train on (the SDK fills these itself);
* ``train_info.params.template`` (classifiers): one `model_type_enum_options` entry per template,
  each with its own ``train_info.params.<name>`` fields;
* ``train_info.params.<name>`` (embedding-classifier: no template, the logistic-regression params);
* ``output_info.output_config.concepts_mutually_exclusive`` and ``output_info.params.temperature``
  (inference defaults stored with the version);
* ``train_info.params.holdout_fraction`` is `internal_only` (the fixed evaluation split).

Every field has a `default_value`, `description` and `placeholder`.

Types: text-embedder and visual-embedder (not trainable: a version computes the general text or
image embedding), text-classifier, visual-classifier and embedding-classifier (trainable,
templates NearestCentroid and LogisticRegression, see `learning`), and text-to-text and
multimodal-to-text (not trainable; only runner-backed models of these types can predict).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelwire._gen.clarifai.api import resources_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.emulator.clarifai.learning import CENTROID, HOLDOUT_FRACTION, LOGISTIC

FieldType = resources_pb2.ModelTypeField.ModelTypeFieldType
ParamValue = float | int | bool
TEXT, IMAGE = "text", "image"
TEXT_EMBEDDER, VISUAL_EMBEDDER = "text-embedder", "visual-embedder"
TEXT_CLASSIFIER, VISUAL_CLASSIFIER, EMBEDDING_CLASSIFIER = (
    "text-classifier",
    "visual-classifier",
    "embedding-classifier",
)
# Keys of train_info.params that are not template parameters.
DATASET_ID, DATASET_VERSION_ID, TEMPLATE = "dataset_id", "dataset_version_id", "template"
TEMPERATURE = "temperature"


def _value(value: ParamValue | str) -> struct_pb2.Value:
    if isinstance(value, bool):
        return struct_pb2.Value(bool_value=value)
    if isinstance(value, str):
        return struct_pb2.Value(string_value=value)
    return struct_pb2.Value(number_value=float(value))


def _field(
    path: str, field_type: int, default: ParamValue | str, description: str, placeholder: str, **more: Any
) -> resources_pb2.ModelTypeField:
    return resources_pb2.ModelTypeField(
        path=path,
        field_type=field_type,  # type: ignore[arg-type]
        default_value=_value(default),
        description=description,
        placeholder=placeholder,
        **more,
    )


@dataclass(frozen=True)
class Param:
    """A numeric or boolean parameter: its default, its meaning and its allowed range (above 0, or
    at least 0 with `zero_ok`, and at most `most`)."""

    name: str
    default: ParamValue
    description: str
    integer: bool = False
    zero_ok: bool = False
    most: float = 1e6

    def field(self, section: str) -> resources_pb2.ModelTypeField:
        kind = FieldType.BOOLEAN if isinstance(self.default, bool) else FieldType.NUMBER
        return _field(f"{section}.{self.name}", kind, self.default, self.description, self.name)

    def read(self, value: struct_pb2.Value) -> ParamValue:
        """The value of this parameter in a request (ValueError says what is wrong)."""
        which = value.WhichOneof("kind")
        if isinstance(self.default, bool):
            if which != "bool_value":
                raise ValueError(f"{self.name} must be true or false")
            return value.bool_value
        number = value.number_value
        low_ok = number >= 0.0 if self.zero_ok else number > 0.0
        if which != "number_value" or not (low_ok and number <= self.most):
            lowest = "at least 0" if self.zero_ok else "above 0"
            raise ValueError(f"{self.name} must be a number {lowest} and at most {self.most:g}")
        if self.integer:
            if not number.is_integer():
                raise ValueError(f"{self.name} must be a whole number")
            return int(number)
        return number


TEMPLATES: Mapping[str, tuple[Param, ...]] = {
    CENTROID: (
        Param(
            "sharpness",
            10.0,
            "Scale of the cosine similarity to each concept's centroid before the softmax/sigmoid: "
            "higher gives more confident scores.",
        ),
    ),
    LOGISTIC: (
        Param("learning_rate", 2.0, "Step size of the full-batch gradient descent.", most=100.0),
        Param("epochs", 300, "Number of gradient descent steps.", integer=True, most=20_000),
        Param("l2", 1e-4, "L2 regularisation strength of the weights.", zero_ok=True, most=10.0),
        Param(
            "balanced",
            True,
            "Weigh positives and negatives of each concept equally (true) or by their counts (false).",
        ),
    ),
}
TEMPLATE_DESCRIPTIONS = {
    CENTROID: "Nearest centroid: cosine similarity of the input's embedding to each concept's mean "
    "embedding. Fast and robust with few examples.",
    LOGISTIC: "Logistic regression on the input's embedding (one-vs-rest, or softmax when the "
    "concepts are mutually exclusive), trained by gradient descent with L2 regularisation.",
}
DEFAULT_TEMPLATE = LOGISTIC
TEMPERATURE_PARAM = Param(
    TEMPERATURE,
    1.0,
    "Softmax/sigmoid temperature of a trained classifier's scores: above 1 flattens, below 1 sharpens them.",
    most=100.0,
)


@dataclass(frozen=True)
class TypeSpec:
    """One model type. `modality` is what a classifier reads ("" for embedding-classifier: the
    modality of its training inputs); `templated` says whether training takes a template."""

    id: str
    title: str
    description: str
    input_fields: tuple[str, ...]
    output_fields: tuple[str, ...]
    trainable: bool = False
    templated: bool = False
    modality: str = ""

    def proto(self) -> resources_pb2.ModelType:
        model_type = resources_pb2.ModelType(
            id=self.id,
            title=self.title,
            description=self.description,
            input_fields=self.input_fields,
            output_fields=self.output_fields,
            trainable=self.trainable,
            creatable=True,
        )
        if self.trainable:
            model_type.evaluation_type = resources_pb2.Classification
            model_type.model_type_fields.extend(self._training_fields())
        return model_type

    def _training_fields(self) -> list[resources_pb2.ModelTypeField]:
        fields = [
            _field(
                f"train_info.params.{DATASET_ID}",
                FieldType.DATASET_ID,
                "",
                "The dataset whose inputs (and their input-level concepts) train the model; empty: "
                "the app's inputs labelled with the concepts.",
                "dataset id",
            ),
            _field(
                f"train_info.params.{DATASET_VERSION_ID}",
                FieldType.DATASET_VERSION_ID,
                "",
                "A version of that dataset to train on (empty: its current inputs).",
                "dataset version id",
            ),
            _field(
                "output_info.data.concepts",
                FieldType.ARRAY_OF_CONCEPTS,
                "",
                "The concepts to learn (each needs positive examples among the training inputs; "
                "empty without a dataset: the model's concepts).",
                "concepts",
            ),
        ]
        if self.templated:
            options = [
                resources_pb2.ModelTypeEnumOption(
                    id=name,
                    description=TEMPLATE_DESCRIPTIONS[name],
                    model_type_fields=[p.field("train_info.params") for p in params],
                    recommended=name == DEFAULT_TEMPLATE,
                )
                for name, params in TEMPLATES.items()
            ]
            fields.append(
                _field(
                    f"train_info.params.{TEMPLATE}",
                    FieldType.ENUM,
                    DEFAULT_TEMPLATE,
                    "The training algorithm.",
                    "template",
                    model_type_enum_options=options,
                )
            )
        else:
            fields += [p.field("train_info.params") for p in TEMPLATES[DEFAULT_TEMPLATE]]
        fields += [
            _field(
                "train_info.params.holdout_fraction",
                FieldType.NUMBER,
                HOLDOUT_FRACTION,
                "Share of the training inputs (chosen by a hash of their id) kept out of training "
                "for evaluation.",
                "holdout fraction",
                internal_only=True,
            ),
            _field(
                "output_info.output_config.concepts_mutually_exclusive",
                FieldType.BOOLEAN,
                False,
                "Each input shows exactly one of the concepts: scores are a softmax (sum to 1) "
                "instead of independent sigmoids.",
                "concepts mutually exclusive",
            ),
            TEMPERATURE_PARAM.field("output_info.params"),
        ]
        return fields


MODEL_TYPES: Mapping[str, TypeSpec] = {
    spec.id: spec
    for spec in (
        TypeSpec(
            TEXT_EMBEDDER,
            "Text Embedder",
            "Embeds text into a vector (the emulator's general text embedding).",
            (TEXT,),
            ("embeddings",),
        ),
        TypeSpec(
            VISUAL_EMBEDDER,
            "Visual Embedder",
            "Embeds images into a vector (the emulator's general image embedding).",
            (IMAGE,),
            ("embeddings",),
        ),
        TypeSpec(
            TEXT_CLASSIFIER,
            "Text Classifier",
            "Classifies text into concepts, trained on the text embeddings of labelled inputs.",
            (TEXT,),
            ("concepts",),
            trainable=True,
            templated=True,
            modality=TEXT,
        ),
        TypeSpec(
            VISUAL_CLASSIFIER,
            "Visual Classifier",
            "Classifies images into concepts, trained on the image embeddings of labelled inputs.",
            (IMAGE,),
            ("concepts",),
            trainable=True,
            templated=True,
            modality=IMAGE,
        ),
        TypeSpec(
            EMBEDDING_CLASSIFIER,
            "Embedding Classifier",
            "Classifies embeddings into concepts (chain it after an embedder in a workflow); trained "
            "by logistic regression on the embeddings of labelled inputs.",
            ("embeddings",),
            ("concepts",),
            trainable=True,
        ),
        TypeSpec(
            "text-to-text",
            "Text To Text",
            "Generates text from text (served by a runner: not computed by the emulator).",
            (TEXT,),
            (TEXT,),
        ),
        TypeSpec(
            "multimodal-to-text",
            "Multimodal To Text",
            "Generates text from text and images (served by a runner: not computed by the emulator).",
            (TEXT, IMAGE),
            (TEXT,),
        ),
    )
}
EMBEDDERS = {TEXT_EMBEDDER: TEXT, VISUAL_EMBEDDER: IMAGE}
TRAINABLE = tuple(t.id for t in MODEL_TYPES.values() if t.trainable)


def text_param(params: struct_pb2.Struct, name: str) -> str:
    """A string in train_info.params ("" when absent or not a string)."""
    return params.fields[name].string_value if name in params.fields else ""


@dataclass(frozen=True)
class TrainingPlan:
    """Validated training parameters: the template and its parameter values (defaults filled)."""

    template: str
    values: dict[str, ParamValue]

    def struct(self, dataset_id: str, dataset_version_id: str) -> struct_pb2.Struct:
        """train_info.params as stored with the version (without dataset keys when it trains on
        the app's labelled inputs, `dataset_id` empty)."""
        params = struct_pb2.Struct()
        if dataset_id:
            params.update({DATASET_ID: dataset_id, DATASET_VERSION_ID: dataset_version_id})
        params.update({TEMPLATE: self.template})
        params.update(self.values)
        return params


def training_plan(params: struct_pb2.Struct) -> TrainingPlan:
    """The plan of a trainable type's train_info.params (ValueError says what is wrong)."""
    template = DEFAULT_TEMPLATE
    if TEMPLATE in params.fields:
        template = params.fields[TEMPLATE].string_value
        if template not in TEMPLATES:
            raise ValueError(f"template {template!r} is unknown: use one of {', '.join(TEMPLATES)}")
    known = {p.name: p for p in TEMPLATES[template]}
    ignored = {DATASET_ID, DATASET_VERSION_ID, TEMPLATE, "holdout_fraction"}
    unknown = sorted(set(params.fields) - set(known) - ignored)
    if unknown:
        raise ValueError(
            f"unknown train_info.params {', '.join(map(repr, unknown))} for template {template!r} "
            f"(its params: {', '.join(known)})"
        )
    values = {
        name: param.read(params.fields[name]) if name in params.fields else param.default
        for name, param in known.items()
    }
    return TrainingPlan(template, values)
