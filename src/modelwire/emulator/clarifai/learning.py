"""Pure NumPy learning for the Clarifai emulator's trainable classifiers, and their evaluation.

Both algorithms learn a linear model over L2-normalised embeddings: ``logits = X @ W.T + b``
(one row per concept). Scores are ``softmax(logits / T)`` when the concepts are mutually exclusive
and ``sigmoid(logits / T)`` (one-vs-rest) otherwise; ``T`` is the inference temperature.

Nearest centroid (cosine)
    ``W[k] = sharpness * unit(mean of the positive examples of k)``. Exclusive: ``b = 0``.
    One-vs-rest: ``b[k] = -sharpness * t[k]`` where ``t[k]`` is midway between the mean cosine
    similarity of the positives and that of the negatives (half the positives' when there are
    no negatives), so a score of 0.5 sits on that boundary.

Logistic regression
    Full-batch gradient descent from all-zero weights (deterministic) on the mean cross-entropy
    plus ``l2 / 2 * |W|^2``: one-vs-rest sigmoid, or multinomial softmax when exclusive (examples
    with no positive concept are then left out). With ``balanced``, positives and negatives of each
    concept weigh the same in total (one-vs-rest), or each concept's examples do (softmax).

The held-out split is a fixed function of the input id (`held_out`), so training and evaluation
agree on it in every process. `evaluate` computes the metrics of a scored test set: rank-based ROC
AUC (ties share their average rank), average precision, ROC and precision-recall curves, and
top-1 decisions (the best-scoring concept is the prediction) for precision, recall, F1, accuracy
and the confusion matrix.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float64]
HOLDOUT_FRACTION = 0.2
CENTROID = "NearestCentroid"
LOGISTIC = "LogisticRegression"
ALGORITHMS = (CENTROID, LOGISTIC)


def held_out(item_id: str, fraction: float = HOLDOUT_FRACTION) -> bool:
    """Whether an input belongs to the evaluation split (stable across processes and machines)."""
    digest = hashlib.blake2b(item_id.encode("utf-8"), digest_size=8, person=b"modelwire-split").digest()
    return int.from_bytes(digest, "little") / 2.0**64 < fraction


def normalize_rows(x: NDArray[np.floating]) -> Matrix:
    """Rows scaled to unit length (all-zero rows stay zero)."""
    matrix = np.asarray(x, dtype=np.float64)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    result: Matrix = matrix / np.where(norms > 0.0, norms, 1.0)
    return result


def softmax(z: Matrix) -> Matrix:
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    result: Matrix = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def sigmoid(z: Matrix) -> Matrix:
    result: Matrix = 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|
    return result


@dataclass(frozen=True)
class LinearModel:
    """A trained classifier: concept ids, weights (K x D), biases (K), how scores are computed, the
    algorithm that made it and the kind of embedding it reads ("text" or "image")."""

    concept_ids: tuple[str, ...]
    weights: Matrix
    bias: Matrix
    exclusive: bool
    algorithm: str
    modality: str

    @property
    def dim(self) -> int:
        return int(self.weights.shape[1])

    def logits(self, x: NDArray[np.floating]) -> Matrix:
        result: Matrix = normalize_rows(x) @ self.weights.T + self.bias
        return result

    def scores(self, x: NDArray[np.floating], temperature: float = 1.0) -> Matrix:
        """Concept scores in [0, 1], one row per example (rows of x)."""
        z = self.logits(x) / temperature
        return softmax(z) if self.exclusive else sigmoid(z)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        np.savez(
            out,
            concept_ids=np.array(self.concept_ids, dtype=str),
            weights=self.weights,
            bias=self.bias,
            exclusive=np.array(self.exclusive),
            algorithm=np.array(self.algorithm),
            modality=np.array(self.modality),
        )
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> LinearModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return cls(
                concept_ids=tuple(str(c) for c in arrays["concept_ids"]),
                weights=np.asarray(arrays["weights"], dtype=np.float64),
                bias=np.asarray(arrays["bias"], dtype=np.float64),
                exclusive=bool(arrays["exclusive"]),
                algorithm=str(arrays["algorithm"]),
                modality=str(arrays["modality"]),
            )


@dataclass(frozen=True)
class TrainingSet:
    """Examples (rows of `x`) with their positive concepts (`y[i, k]` true when example i shows
    concept k)."""

    concept_ids: tuple[str, ...]
    x: Matrix
    y: NDArray[np.bool_]
    modality: str


def train_nearest_centroid(data: TrainingSet, *, exclusive: bool, sharpness: float) -> LinearModel:
    x = normalize_rows(data.x)
    positives = data.y.astype(np.float64)
    centroids = normalize_rows(positives.T @ x)  # K x D: normalised sums = normalised means
    weights = sharpness * centroids
    bias = np.zeros(len(data.concept_ids))
    if not exclusive:
        similarity = x @ centroids.T
        for k in range(len(data.concept_ids)):
            pos = similarity[data.y[:, k], k]
            neg = similarity[~data.y[:, k], k]
            boundary = (pos.mean() + neg.mean()) / 2.0 if neg.size else pos.mean() / 2.0
            bias[k] = -sharpness * boundary
    return LinearModel(data.concept_ids, weights, bias, exclusive, CENTROID, data.modality)


def _example_weights(y: NDArray[np.bool_], exclusive: bool, balanced: bool) -> Matrix:
    """Per-example (exclusive: N x 1) or per-example-and-concept (N x K) loss weights, mean 1."""
    n, k = y.shape
    if not balanced:
        return np.ones((n, 1 if exclusive else k))
    if exclusive:
        per_class = y.sum(axis=0)
        share = (y / np.maximum(per_class, 1)).sum(axis=1) / np.maximum(y.sum(axis=1), 1)
        result: Matrix = (share * n / max(int(np.count_nonzero(per_class)), 1))[:, None]
        return result
    pos = y.sum(axis=0)
    neg = n - pos
    balanced_weights: Matrix = np.where(y, n / (2.0 * np.maximum(pos, 1)), n / (2.0 * np.maximum(neg, 1)))
    return balanced_weights


def train_logistic_regression(
    data: TrainingSet,
    *,
    exclusive: bool,
    learning_rate: float,
    epochs: int,
    l2: float,
    balanced: bool,
) -> LinearModel:
    x, y = normalize_rows(data.x), data.y
    if exclusive:
        keep = y.any(axis=1)
        x, y = x[keep], y[keep]
    targets = y.astype(np.float64)
    if exclusive:
        targets = targets / targets.sum(axis=1, keepdims=True)
    sample_weight = _example_weights(y, exclusive, balanced)
    n = max(x.shape[0], 1)
    weights = np.zeros((y.shape[1], x.shape[1]))
    bias = np.zeros(y.shape[1])
    for _ in range(epochs):
        z = x @ weights.T + bias
        error = ((softmax(z) if exclusive else sigmoid(z)) - targets) * sample_weight
        weights -= learning_rate * (error.T @ x / n + l2 * weights)
        bias -= learning_rate * error.mean(axis=0)
    return LinearModel(data.concept_ids, weights, bias, exclusive, LOGISTIC, data.modality)


# -- evaluation ----------------------------------------------------------------------------------------


def _average_ranks(values: Matrix) -> Matrix:
    """1-based ranks of `values`, ties sharing their average rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2.0 + 1.0
        start = end + 1
    return ranks


def roc_auc(scores: Matrix, labels: NDArray[np.bool_]) -> float | None:
    """Area under the ROC curve (Mann-Whitney U); None without both positives and negatives."""
    pos, neg = int(labels.sum()), int((~labels).sum())
    if not pos or not neg:
        return None
    rank_sum = float(_average_ranks(scores)[labels].sum())
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg)


@dataclass(frozen=True)
class Curves:
    """Threshold curves of one concept: at each distinct score (descending) as threshold."""

    thresholds: Matrix
    tpr: Matrix  # = recall
    fpr: Matrix
    precision: Matrix


def curves(scores: Matrix, labels: NDArray[np.bool_]) -> Curves:
    order = np.argsort(-scores, kind="mergesort")
    ordered, hits = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(ordered)), len(ordered) - 1]
    tp = np.cumsum(hits)[last_of_tie].astype(np.float64)
    fp = np.cumsum(~hits)[last_of_tie].astype(np.float64)
    pos, neg = max(int(labels.sum()), 1), max(int((~labels).sum()), 1)
    return Curves(ordered[last_of_tie], tp / pos, fp / neg, tp / (tp + fp))


def average_precision(scores: Matrix, labels: NDArray[np.bool_]) -> float | None:
    """Mean of the precision at each positive's rank (ties counted together); None without
    positives."""
    if not labels.any():
        return None
    c = curves(scores, labels)
    recall_steps = np.diff(np.r_[0.0, c.tpr])
    return float((recall_steps * c.precision).sum())


@dataclass(frozen=True)
class ConceptReport:
    num_pos: int
    num_neg: int
    roc_auc: float | None
    average_precision: float | None
    precision: float  # of top-1 decisions
    recall: float
    f1: float
    curves: Curves


@dataclass(frozen=True)
class Report:
    """Metrics of a scored test set (`scores` and `truth` are N x K, concepts in model order)."""

    concepts: list[ConceptReport]
    top1_accuracy: float
    top5_accuracy: float
    confusion: Matrix  # K x K, [predicted, actual]; each labelled example adds 1 in total
    labelled: int  # examples with at least one positive concept
    # Means (and standard deviations) over concepts; ROC AUC over those with positives and negatives.
    macro_roc_auc: tuple[float, float]
    macro_f1: tuple[float, float]
    macro_precision: float
    macro_recall: float


def _mean_std(values: Sequence[float | None]) -> tuple[float, float]:
    known = [v for v in values if v is not None]
    if not known:
        return 0.0, 0.0
    return float(np.mean(known)), float(np.std(known))


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def evaluate(scores: Matrix, truth: NDArray[np.bool_]) -> Report:
    n, k = truth.shape
    top1 = scores.argmax(axis=1) if n else np.zeros(0, dtype=np.intp)
    decided = np.zeros((n, k), dtype=bool)
    decided[np.arange(n), top1] = True
    labelled = truth.any(axis=1)
    reports = []
    for c in range(k):
        column, actual = scores[:, c], truth[:, c]
        tp = float((decided[:, c] & actual).sum())
        precision = _ratio(tp, float(decided[:, c].sum()))
        recall = _ratio(tp, float(actual.sum()))
        reports.append(
            ConceptReport(
                num_pos=int(actual.sum()),
                num_neg=int((~actual).sum()),
                roc_auc=roc_auc(column, actual),
                average_precision=average_precision(column, actual),
                precision=precision,
                recall=recall,
                f1=_ratio(2 * precision * recall, precision + recall),
                curves=curves(column, actual),
            )
        )
    share = truth[labelled] / truth[labelled].sum(axis=1, keepdims=True)
    confusion = decided[labelled].T.astype(np.float64) @ share
    best5 = np.argsort(-scores, axis=1, kind="mergesort")[:, :5]
    in_top5 = np.asarray(np.take_along_axis(truth, best5, axis=1).any(axis=1), dtype=bool)
    count = int(labelled.sum())
    top1_right: NDArray[np.bool_] = truth[np.arange(n), top1]
    return Report(
        concepts=reports,
        top1_accuracy=_ratio(float(top1_right[labelled].sum()), count),
        top5_accuracy=_ratio(float(in_top5[labelled].sum()), count),
        confusion=confusion,
        labelled=count,
        macro_roc_auc=_mean_std([r.roc_auc for r in reports]),
        macro_f1=_mean_std([r.f1 for r in reports]),
        macro_precision=_mean_std([r.precision for r in reports])[0],
        macro_recall=_mean_std([r.recall for r in reports])[0],
    )
