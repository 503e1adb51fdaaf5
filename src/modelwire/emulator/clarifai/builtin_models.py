"""Clarifai's public app ``main`` of user ``clarifai``, as the emulator provides it: the app, its
models and its workflows (all public, see `public` for who may read them).

Any valid key may read the models (GetModel, ListModels, GetModelVersion, ListModelVersions,
ListModelConcepts) and predict with them (PostModelOutputs) by setting ``user_app_id {user_id:
"clarifai", app_id: "main"}``, and workflows of any app may use them as nodes
(``model.user_id/app_id`` = clarifai/main). Each has one trained version with a fixed id. The
workflows (`BUILTIN_WORKFLOWS`: ``Empty``, ``General``, ``Text``, ``Universal``, the base workflows
apps name in ``default_workflow``) run them. The models compute deterministic results from the
content itself:

``general-text-embedding`` (text-embedder)
    ``data.embeddings[0]``: the 512-float text embedding that search uses (`embed_text`).
``general-image-embedding`` (visual-embedder)
    ``data.embeddings[0]``: the 256-float image embedding that search uses (`embed_image`).
``general-image-recognition`` (visual-classifier)
    Concepts of the image's colours, from its pixels (64x64 RGB, converted to HSV): the hue names
    red, orange, yellow, green, cyan, blue, purple and pink score the share of pixels that are
    saturated (S >= 0.25, V >= 0.2) with that hue; white, gray and black the share of unsaturated
    pixels that are light (V >= 0.8), mid or dark (V < 0.2); ``bright`` is the mean luminance and
    ``dark`` its complement; ``colorful`` the share of saturated pixels and ``monochrome`` its
    complement. All scores are in [0, 1].
``general-text-classification`` (text-classifier)
    Sentiment from a small English lexicon (a negation among the two previous words flips a
    word): with p positive and n negative words, ``positive`` = p/(p+n+1), ``negative`` =
    n/(p+n+1), ``neutral`` = 1/(p+n+1). Topics ``sports``, ``technology``, ``food``, ``travel``,
    ``finance`` and ``weather`` score h/(h+1) for h words of the topic's vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.emulator.clarifai.embeddings import (
    IMAGE_EMBEDDING_MODEL_ID,
    IMAGE_EMBEDDING_MODEL_VERSION_ID,
    TEXT_EMBEDDING_MODEL_ID,
    TEXT_EMBEDDING_MODEL_VERSION_ID,
    decode_image,
)
from modelwire.emulator.clarifai.failures import S, status
from modelwire.emulator.clarifai.model_types import (
    IMAGE,
    TEXT,
    TEXT_CLASSIFIER,
    TEXT_EMBEDDER,
    VISUAL_CLASSIFIER,
    VISUAL_EMBEDDER,
)
from modelwire.emulator.clarifai.predicting import ConceptModel, Embedder, Predictor, Scored
from modelwire.emulator.clarifai.records import Owner, stamp, timestamp

BUILTIN_OWNER = Owner("clarifai", "main")
IMAGE_RECOGNITION_MODEL_ID = "general-image-recognition"
IMAGE_RECOGNITION_VERSION_ID = "aa7f35c01e0642fda5cf400f543e7c40"
TEXT_CLASSIFICATION_MODEL_ID = "general-text-classification"
TEXT_CLASSIFICATION_VERSION_ID = "6c1f0e2d9b8a4f37a5e4d3c2b1a09f8e"
CREATED_NS = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z, so listings never change

# -- image colours -------------------------------------------------------------------------------------

_HUES = (  # name, [start, end) in degrees; red wraps around 0
    ("red", 345.0, 15.0),
    ("orange", 15.0, 45.0),
    ("yellow", 45.0, 70.0),
    ("green", 70.0, 165.0),
    ("cyan", 165.0, 195.0),
    ("blue", 195.0, 255.0),
    ("purple", 255.0, 290.0),
    ("pink", 290.0, 345.0),
)
_SATURATED, _DARK, _LIGHT = 0.25, 0.2, 0.8
_LUMA = np.array([0.299, 0.587, 0.114])


def _hsv(rgb: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Hue in degrees [0, 360), saturation and value in [0, 1], per pixel."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    high, low = rgb.max(axis=-1), rgb.min(axis=-1)
    spread = high - low
    safe = np.where(spread > 0, spread, 1.0)
    hue = np.select(
        [high == r, high == g],
        [((g - b) / safe) % 6.0, (b - r) / safe + 2.0],
        (r - g) / safe + 4.0,
    )
    hue = np.where(spread > 0, hue * 60.0, 0.0)
    saturation = np.where(high > 0, spread / np.where(high > 0, high, 1.0), 0.0)
    return hue, saturation, high


def colour_concepts(content: bytes) -> list[Scored]:
    rgb = decode_image(content)
    hue, saturation, value = _hsv(rgb)
    saturated = (saturation >= _SATURATED) & (value >= _DARK)
    scores: dict[str, float] = {}
    for name, start, end in _HUES:
        in_range = (hue >= start) | (hue < end) if start > end else (hue >= start) & (hue < end)
        scores[name] = float(np.mean(saturated & in_range))
    plain = ~saturated
    scores["white"] = float(np.mean(plain & (value >= _LIGHT)))
    scores["black"] = float(np.mean(plain & (value < _DARK)))
    scores["gray"] = float(np.mean(plain & (value >= _DARK) & (value < _LIGHT)))
    brightness = float(np.mean(rgb @ _LUMA))
    scores.update(bright=brightness, dark=1.0 - brightness)
    colourful = float(np.mean(saturated))
    scores.update(colorful=colourful, monochrome=1.0 - colourful)
    return [(name, name, score) for name, score in scores.items()]


# -- text sentiment and topics -------------------------------------------------------------------------

_WORDS = re.compile(r"[\w']+")


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


_POSITIVE = _vocabulary(
    "good great excellent love loved lovely like liked happy wonderful amazing awesome best better "
    "fantastic enjoy enjoyed nice perfect delightful pleased beautiful brilliant superb glad "
    "recommend favorite fun impressive"
)
_NEGATIVE = _vocabulary(
    "bad terrible awful hate hated worst worse horrible poor sad angry disappointing disappointed "
    "boring ugly broken useless annoying dreadful disgusting fail failed failure wrong slow "
    "expensive rude"
)
_NEGATORS = _vocabulary(
    "not no never nothing isn't wasn't aren't weren't don't doesn't didn't can't cannot won't hardly"
)
_TOPICS: Mapping[str, frozenset[str]] = {
    topic: _vocabulary(words)
    for topic, words in {
        "sports": "sport sports football soccer basketball tennis baseball match game team goal player "
        "players coach league score scored championship tournament",
        "technology": "technology computer computers software hardware laptop phone smartphone app "
        "internet code program programming robot ai data digital device",
        "food": "food eat eating meal dinner lunch breakfast restaurant recipe cook cooking pizza pasta "
        "bread cake delicious tasty chef",
        "travel": "travel trip journey flight airport hotel vacation holiday tourist beach passport "
        "destination tour",
        "finance": "money bank banks finance financial stock stocks market invest investment price "
        "prices economy loan budget",
        "weather": "weather rain rainy sunny snow storm wind windy cloudy temperature forecast hot cold",
    }.items()
}


# One pass over a text's words finds both its sentiment words and its topics' words.
_POLAR = _POSITIVE | _NEGATIVE
_TOPICS_OF: Mapping[str, tuple[str, ...]] = {
    word: tuple(topic for topic, vocabulary in _TOPICS.items() if word in vocabulary)
    for word in frozenset().union(*_TOPICS.values())
}


def text_concepts(content: bytes) -> list[Scored]:
    words = _WORDS.findall(content.decode("utf-8").casefold())
    positive = negative = 0
    hits = dict.fromkeys(_TOPICS, 0)
    for i, word in enumerate(words):
        if word in _POLAR:
            polarity = (word in _POSITIVE) - (word in _NEGATIVE)
            if polarity and _NEGATORS.intersection(words[max(0, i - 2) : i]):
                polarity = -polarity
            positive += polarity > 0
            negative += polarity < 0
        for topic in _TOPICS_OF.get(word, ()):
            hits[topic] += 1
    total = positive + negative + 1
    scored = [("positive", positive / total), ("negative", negative / total), ("neutral", 1 / total)]
    scored += [(topic, n / (n + 1)) for topic, n in hits.items()]
    return [(name, name, score) for name, score in scored]


# -- the models ----------------------------------------------------------------------------------------

COLOUR_CONCEPTS = (
    *(name for name, _, _ in _HUES),
    "white",
    "black",
    "gray",
    "bright",
    "dark",
    "colorful",
    "monochrome",
)
TEXT_CONCEPTS = ("positive", "negative", "neutral", *_TOPICS)


@dataclass(frozen=True)
class Builtin:
    model_id: str
    version_id: str
    type_id: str
    description: str
    predictor: Predictor
    concepts: tuple[str, ...] = ()


BUILTINS = (
    Builtin(
        TEXT_EMBEDDING_MODEL_ID,
        TEXT_EMBEDDING_MODEL_VERSION_ID,
        TEXT_EMBEDDER,
        "Embeds text into 512 floats (the vectors the emulator's text search uses).",
        Embedder(TEXT_EMBEDDING_MODEL_ID, TEXT),
    ),
    Builtin(
        IMAGE_EMBEDDING_MODEL_ID,
        IMAGE_EMBEDDING_MODEL_VERSION_ID,
        VISUAL_EMBEDDER,
        "Embeds images into 256 floats (the vectors the emulator's image search uses).",
        Embedder(IMAGE_EMBEDDING_MODEL_ID, IMAGE),
    ),
    Builtin(
        IMAGE_RECOGNITION_MODEL_ID,
        IMAGE_RECOGNITION_VERSION_ID,
        VISUAL_CLASSIFIER,
        "Recognises an image's colours, brightness and colourfulness from its pixels.",
        ConceptModel(IMAGE_RECOGNITION_MODEL_ID, IMAGE, colour_concepts),
        COLOUR_CONCEPTS,
    ),
    Builtin(
        TEXT_CLASSIFICATION_MODEL_ID,
        TEXT_CLASSIFICATION_VERSION_ID,
        TEXT_CLASSIFIER,
        "Classifies English text by sentiment (positive, negative, neutral) and topic.",
        ConceptModel(TEXT_CLASSIFICATION_MODEL_ID, TEXT, text_concepts),
        TEXT_CONCEPTS,
    ),
)
BUILTIN_PREDICTORS: Mapping[str, Predictor] = {b.model_id: b.predictor for b in BUILTINS}


def builtin_models() -> list[tuple[resources_pb2.Model, resources_pb2.ModelVersion]]:
    """The built-in models and their versions, as stored under `BUILTIN_OWNER`."""
    public = resources_pb2.Visibility(gettable=resources_pb2.Visibility.PUBLIC)
    result = []
    for builtin in BUILTINS:
        model = resources_pb2.Model(
            id=builtin.model_id,
            name=builtin.model_id,
            display_name=builtin.model_id,
            model_type_id=builtin.type_id,
            description=builtin.description,
            visibility=public,
        )
        concepts = [resources_pb2.Concept(id=c, name=c) for c in builtin.concepts]
        version = resources_pb2.ModelVersion(
            id=builtin.version_id,
            status=status(S.MODEL_TRAINED),
            completed_at=timestamp(CREATED_NS),
            active_concept_count=len(concepts),
            output_info=resources_pb2.OutputInfo(data=resources_pb2.Data(concepts=concepts)),
            visibility=public,
        )
        for message in (model, version):
            stamp(message, BUILTIN_OWNER, CREATED_NS)
        result.append((model, version))
    return result


# -- the app and its workflows ---------------------------------------------------------------------------

# Workflow id -> description and the models of its nodes (each node named after its model).
BUILTIN_WORKFLOWS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "Empty": ("No models: for apps that only store inputs.", ()),
    "General": (
        "Recognises an image's colours and embeds it.",
        (IMAGE_RECOGNITION_MODEL_ID, IMAGE_EMBEDDING_MODEL_ID),
    ),
    "Text": (
        "Classifies English text by sentiment and topic and embeds it.",
        (TEXT_CLASSIFICATION_MODEL_ID, TEXT_EMBEDDING_MODEL_ID),
    ),
    "Universal": ("Embeds images and text.", (IMAGE_EMBEDDING_MODEL_ID, TEXT_EMBEDDING_MODEL_ID)),
}


def _public() -> resources_pb2.Visibility:
    return resources_pb2.Visibility(gettable=resources_pb2.Visibility.PUBLIC)


def builtin_app() -> resources_pb2.App:
    """The app ``main`` of user ``clarifai`` (stored as an app of user ``clarifai``)."""
    app = resources_pb2.App(
        id=BUILTIN_OWNER.app_id,
        name=BUILTIN_OWNER.app_id,
        description="Clarifai's public models and workflows (emulated by modelwire).",
        default_language="en",
        visibility=_public(),
    )
    app.default_workflow.id = "Empty"
    stamp(app, BUILTIN_OWNER._replace(app_id=""), CREATED_NS)
    return app


def builtin_workflows() -> list[resources_pb2.Workflow]:
    """The public workflows of clarifai/main, each with its one version (``version``, id fixed)."""
    versions = {b.model_id: b.version_id for b in BUILTINS}
    result = []
    for workflow_id, (description, model_ids) in BUILTIN_WORKFLOWS.items():
        nodes = [
            resources_pb2.WorkflowNode(
                id=model_id,
                model=resources_pb2.Model(
                    id=model_id,
                    user_id=BUILTIN_OWNER.user_id,
                    app_id=BUILTIN_OWNER.app_id,
                    model_version=resources_pb2.ModelVersion(id=versions[model_id]),
                ),
            )
            for model_id in model_ids
        ]
        workflow = resources_pb2.Workflow(
            id=workflow_id, description=description, nodes=nodes, visibility=_public()
        )
        version = resources_pb2.WorkflowVersion(
            id=f"{workflow_id.lower()}-v1",
            workflow_id=workflow_id,
            description=description,
            nodes=nodes,
            visibility=_public(),
        )
        for message in (workflow, version):
            stamp(message, BUILTIN_OWNER, CREATED_NS)
        workflow.version.CopyFrom(version)
        result.append(workflow)
    return result
