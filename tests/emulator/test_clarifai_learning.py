"""Unit tests of the Clarifai emulator's model code: NumPy learning and metrics, training params,
output settings and the built-in scorers (no server)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from modelwire._gen.clarifai.api import resources_pb2 as R
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.emulator.clarifai.builtin_models import (
    COLOUR_CONCEPTS,
    TEXT_CONCEPTS,
    colour_concepts,
    text_concepts,
)
from modelwire.emulator.clarifai.learning import (
    CENTROID,
    LOGISTIC,
    LinearModel,
    TrainingSet,
    average_precision,
    curves,
    evaluate,
    held_out,
    roc_auc,
    train_logistic_regression,
    train_nearest_centroid,
)
from modelwire.emulator.clarifai.model_types import MODEL_TYPES, training_plan
from modelwire.emulator.clarifai.predicting import OutputSettings, settings_of

CONCEPTS = ("a", "b", "c")


def clusters(per_class: int = 20, dim: int = 16, seed: int = 0) -> TrainingSet:
    """Three well separated clusters around orthogonal directions."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for k in range(len(CONCEPTS)):
        centre = np.zeros(dim)
        centre[k] = 1.0
        rows.append(centre + 0.2 * rng.standard_normal((per_class, dim)))
        label = np.zeros((per_class, len(CONCEPTS)), dtype=bool)
        label[:, k] = True
        labels.append(label)
    return TrainingSet(CONCEPTS, np.vstack(rows), np.vstack(labels), "text")


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, "PNG")
    return out.getvalue()


# -- the held-out split --------------------------------------------------------------------------------


def test_held_out_is_a_stable_fifth() -> None:
    ids = [f"input-{i}" for i in range(5000)]
    chosen = [held_out(i) for i in ids]
    assert chosen == [held_out(i) for i in ids]  # deterministic
    assert 0.17 < sum(chosen) / len(ids) < 0.23
    assert not any(held_out(i, fraction=0.0) for i in ids[:100])


# -- training --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("exclusive", [False, True])
def test_both_algorithms_separate_clusters(exclusive: bool) -> None:
    data, test = clusters(seed=1), clusters(seed=2)
    models = [
        train_nearest_centroid(data, exclusive=exclusive, sharpness=10.0),
        train_logistic_regression(
            data, exclusive=exclusive, learning_rate=2.0, epochs=300, l2=1e-4, balanced=True
        ),
    ]
    for model in models:
        scores = model.scores(test.x)
        assert np.array_equal(scores.argmax(axis=1), test.y.argmax(axis=1)), model.algorithm
        assert ((scores >= 0) & (scores <= 1)).all()
        if exclusive:
            np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    assert [m.algorithm for m in models] == [CENTROID, LOGISTIC]


def test_one_vs_rest_scores_cross_one_half_between_classes() -> None:
    data = clusters()
    for model in (
        train_nearest_centroid(data, exclusive=False, sharpness=10.0),
        train_logistic_regression(
            data, exclusive=False, learning_rate=2.0, epochs=300, l2=1e-4, balanced=True
        ),
    ):
        scores = model.scores(data.x)
        assert (scores[data.y] > 0.5).mean() > 0.95 and (scores[~data.y] < 0.5).mean() > 0.95


def test_training_is_deterministic_and_weights_round_trip() -> None:
    data = clusters()
    first = train_logistic_regression(
        data, exclusive=False, learning_rate=1.0, epochs=50, l2=0.0, balanced=False
    )
    second = train_logistic_regression(
        data, exclusive=False, learning_rate=1.0, epochs=50, l2=0.0, balanced=False
    )
    np.testing.assert_array_equal(first.weights, second.weights)
    loaded = LinearModel.from_bytes(first.to_bytes())
    assert (loaded.concept_ids, loaded.exclusive, loaded.algorithm, loaded.modality) == (
        CONCEPTS,
        False,
        LOGISTIC,
        "text",
    )
    np.testing.assert_array_equal(loaded.scores(data.x), first.scores(data.x))
    assert loaded.dim == 16


def test_temperature_flattens_scores() -> None:
    model = train_nearest_centroid(clusters(), exclusive=True, sharpness=10.0)
    point = clusters().x[:1]
    sharp, flat = model.scores(point, 0.5)[0], model.scores(point, 5.0)[0]
    assert sharp.max() > model.scores(point)[0].max() > flat.max() > 1 / 3


# -- metrics ---------------------------------------------------------------------------------------------


def test_roc_auc_is_rank_based() -> None:
    labels = np.array([True, True, False, False])
    assert roc_auc(np.array([0.9, 0.8, 0.2, 0.1]), labels) == 1.0
    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), labels) == 0.0
    assert roc_auc(np.array([0.5, 0.5, 0.5, 0.5]), labels) == 0.5  # ties share their rank
    assert roc_auc(np.array([0.9, 0.3, 0.5, 0.1]), labels) == 0.75
    assert roc_auc(np.array([0.1, 0.2]), np.array([True, True])) is None


def test_average_precision_and_curves() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    labels = np.array([True, False, True, False])
    assert average_precision(scores, labels) == pytest.approx((1.0 + 2 / 3) / 2)
    assert average_precision(scores, np.zeros(4, dtype=bool)) is None
    found = curves(scores, labels)
    np.testing.assert_allclose(found.tpr, [0.5, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(found.fpr, [0.0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(found.precision, [1.0, 0.5, 2 / 3, 0.5])
    np.testing.assert_allclose(found.thresholds, scores)


def test_evaluate_reports_top1_decisions() -> None:
    scores = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    truth = np.array(
        [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]],  # the last input shows none of them
        dtype=bool,
    )
    report = evaluate(scores, truth)
    assert report.labelled == 4 and report.top1_accuracy == 0.75 and report.top5_accuracy == 1.0
    assert report.confusion.sum() == 4
    assert report.confusion[0, 1] == 1  # predicted a, actually b
    a, b, c = report.concepts
    assert (a.precision, a.recall) == (0.5, 1.0) and (b.precision, b.recall) == (1.0, 0.5)
    assert c.precision == 0.5 and c.recall == 1.0  # the unlabelled input was a false positive
    assert a.f1 == pytest.approx(2 / 3) and a.num_pos == 1 and a.num_neg == 4
    assert report.macro_precision == pytest.approx((0.5 + 1.0 + 0.5) / 3)


def test_evaluate_shares_multi_label_inputs_in_the_confusion_matrix() -> None:
    report = evaluate(np.array([[0.9, 0.1]]), np.array([[True, True]]))
    np.testing.assert_allclose(report.confusion, [[0.5, 0.5], [0.0, 0.0]])
    assert report.concepts[0].roc_auc is None and report.macro_roc_auc == (0.0, 0.0)


# -- params and settings ------------------------------------------------------------------------------------


def params(**values: object) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(values)
    return result


def test_training_plan_fills_defaults_and_checks_values() -> None:
    plan = training_plan(params(dataset_id="d", template="NearestCentroid", sharpness=4))
    assert (plan.template, plan.values) == ("NearestCentroid", {"sharpness": 4.0})
    default = training_plan(params(dataset_id="d", dataset_version_id="", epochs=10))
    assert default.template == "LogisticRegression" and default.values["epochs"] == 10
    assert default.values["balanced"] is True
    stored = default.struct("d", "v")
    assert (stored["dataset_id"], stored["dataset_version_id"], stored["template"]) == ("d", "v", LOGISTIC)
    for bad, message in [
        (params(template="Nope"), "unknown"),
        (params(epochs=2.5), "whole number"),
        (params(learning_rate=-1), "above 0"),
        (params(balanced="yes"), "true or false"),
        (params(colour=1), "unknown train_info.params 'colour'"),
    ]:
        with pytest.raises(ValueError, match=message):
            training_plan(bad)
    assert training_plan(params(l2=0)).values["l2"] == 0.0


def test_only_classifiers_are_trainable_and_templated() -> None:
    assert [t for t, spec in MODEL_TYPES.items() if spec.trainable] == [
        "text-classifier",
        "visual-classifier",
        "embedding-classifier",
    ]
    assert not MODEL_TYPES["text-embedder"].proto().model_type_fields
    paths = [f.path for f in MODEL_TYPES["embedding-classifier"].proto().model_type_fields]
    assert "train_info.params.template" not in paths and "train_info.params.learning_rate" in paths


def test_output_settings_layer_and_pick() -> None:
    version = R.OutputInfo(output_config=R.OutputConfig(max_concepts=2), params=params(temperature=2.0))
    request = R.OutputInfo(output_config=R.OutputConfig(min_value=0.3))
    settings = settings_of(version, request)
    assert settings == OutputSettings(min_value=pytest.approx(0.3), max_concepts=2, temperature=2.0)
    scored = [("x", "X", 0.2), ("y", "Y", 0.9), ("z", "Z", 0.5), ("w", "W", 0.4)]

    def picked(settings: OutputSettings) -> list[str]:
        data = R.Data()
        settings.pick(scored, data)
        return [c.id for c in data.concepts]

    assert picked(settings) == ["y", "z"]
    chosen = settings_of(R.OutputInfo(output_config=R.OutputConfig(select_concepts=[R.Concept(name="X")])))
    assert picked(chosen) == ["x"]  # whatever its score
    with pytest.raises(ValueError, match="temperature"):
        settings_of(R.OutputInfo(params=params(temperature="hot")))


# -- built-in scorers ---------------------------------------------------------------------------------------


def test_colour_concepts() -> None:
    scores = {name: value for name, _, value in colour_concepts(png((0, 180, 0)))}
    assert tuple(scores) == COLOUR_CONCEPTS
    assert scores["green"] == 1.0 and scores["colorful"] == 1.0 and scores["red"] == 0.0
    gray = {name: value for name, _, value in colour_concepts(png((128, 128, 128)))}
    assert gray["gray"] == 1.0 and gray["monochrome"] == 1.0
    assert gray["bright"] == pytest.approx(128 / 255, abs=0.01)
    purple = {name: value for name, _, value in colour_concepts(png((140, 40, 200)))}
    assert max(("red", "blue", "purple", "pink"), key=purple.__getitem__) == "purple"


def test_text_concepts() -> None:
    scores = {name: value for name, _, value in text_concepts(b"I really love this great phone app")}
    assert tuple(scores) == TEXT_CONCEPTS
    assert scores["positive"] == pytest.approx(2 / 3) and scores["negative"] == 0.0
    assert scores["technology"] == pytest.approx(2 / 3)
    negated = {name: value for name, _, value in text_concepts(b"this is not good")}
    assert negated["negative"] == 0.5 and negated["positive"] == 0.0
    plain = {name: value for name, _, value in text_concepts(b"")}
    assert plain["neutral"] == 1.0
