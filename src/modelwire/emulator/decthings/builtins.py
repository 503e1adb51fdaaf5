"""Built-in models: the code the emulator runs where the real service would run a model's own code.

They are pre-created models owned by the user `decthings` (readable by every key, like public
models), and every model made from them (`fromExisting`, snapshots of those) runs the same code:

* `decthings-text-embedder`: evaluate `input` (string tensors, shape []) -> `embedding`, one f32 [512]
  per input: the hashed word / character n-gram embedding of the Clarifai emulator's search
  (`emulator.clarifai.embeddings.embed_text`), deterministic and L2-normalised.
* `decthings-sum`: evaluate `input` (f32 or f64 tensors of any shape) -> `output`, one f64 [] sum each.
* `decthings-linear-regressor`: createState (optional `inputSize`, an integer) gives zero weights;
  evaluate `input` (f32 [N]) -> `output` (f32 [] = w . x + b); train on `input` (f32 [N]) and
  `target` (f32 []), usually both read from a dataset: a few steps of full-batch gradient descent on
  the mean squared error (step size 1/L, L the largest eigenvalue of the data's Gram matrix), then
  the exact least-squares fit (`numpy.linalg.lstsq`) as the last step; each step reports `loss`.

Code in a model is told apart from bad input the way the real service does it: bad input makes the
model raise, which the API reports as a failed evaluation / training / state creation with an
`exception` error, not as an API error.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from modelwire.decthings.tensor import DecthingsTensor
from modelwire.emulator.clarifai.embeddings import TEXT_DIM, embed_text
from modelwire.emulator.decthings.errors import JsonObject
from modelwire.emulator.decthings.rules import definition, violation

DECTHINGS_OWNER: Final = "decthings"
# Built-ins predate every user resource: they list last when sorted newest first.
BUILTIN_CREATED_MS: Final = 1_704_067_200_000  # 2024-01-01T00:00:00Z

TensorParams = dict[str, list[DecthingsTensor]]
StateData = dict[str, bytes]
INTEGER_TYPES: Final = ("i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64")


class ModelException(Exception):
    """The model's code raised: reported as error `{code: "exception", at, exceptionDetails}`."""

    def __init__(self, at: str, details: str) -> None:
        super().__init__(details)
        self.at = at
        self.details = details

    def error(self) -> JsonObject:
        return {"code": "exception", "at": self.at, "exceptionDetails": self.details}


@dataclass(frozen=True)
class TrainStep:
    progress: float  # 0..1
    metrics: dict[str, float]


@dataclass(frozen=True)
class Builtin:
    kind: str
    model_id: str
    name: str
    description: str
    definitions: JsonObject
    tags: list[dict[str, str]] = field(default_factory=list)

    @property
    def state_id(self) -> str:
        return f"{self.model_id}-default-state"

    def create_state(self, params: TensorParams) -> StateData:
        _inputs(params, self.definitions["createState"], "createState")
        return {}

    def evaluate(self, state: StateData, params: TensorParams) -> list[tuple[str, list[DecthingsTensor]]]:
        raise NotImplementedError

    def train(self, state: StateData, params: TensorParams) -> Generator[TrainStep, None, StateData]:
        raise ModelException("train", f"the {self.name} model has no train function")
        yield  # a generator, like the trainable models' train


def _inputs(
    params: TensorParams, definitions: Sequence[JsonObject], at: str, *, any_shape: bool = False
) -> TensorParams:
    """Check params against definitions the way model code would, raising ModelException."""
    known = {d["name"]: d for d in definitions}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ModelException(
            at, f"unexpected parameter(s) {unknown}; this model takes {sorted(known) or 'none'}"
        )
    for name, d in known.items():
        if d["required"] and not params.get(name):
            raise ModelException(at, f"parameter {name!r} is required (at least one tensor)")
        for i, tensor in enumerate(params.get(name, [])):
            rules = d["rules"]
            if any_shape:
                rules = {**rules, "shape": [-1] * len(tensor.shape())}
            reason = violation(tensor, rules)
            if reason is not None:
                raise ModelException(at, f"parameter {name!r}, tensor {i}: {reason}")
    return params


class TextEmbedder(Builtin):
    def create_state(self, params: TensorParams) -> StateData:
        _inputs(params, self.definitions["createState"], "createState")
        return {"config": json.dumps({"embedding": "hashed-ngrams-v1", "dimension": TEXT_DIM}).encode()}

    def evaluate(self, state: StateData, params: TensorParams) -> list[tuple[str, list[DecthingsTensor]]]:
        texts = _inputs(params, self.definitions["evaluateInput"], "evaluate")["input"]
        vectors = [embed_text(str(t.item())).astype("<f4") for t in texts]
        return [("embedding", [DecthingsTensor(v, "f32", [TEXT_DIM]) for v in vectors])]


class Summer(Builtin):
    def evaluate(self, state: StateData, params: TensorParams) -> list[tuple[str, list[DecthingsTensor]]]:
        tensors = _inputs(params, self.definitions["evaluateInput"], "evaluate", any_shape=True)["input"]
        sums = [float(np.sum(t.numpy(), dtype=np.float64)) for t in tensors]
        return [("output", [DecthingsTensor([s], "f64", []) for s in sums])]


def _f32(values: npt.ArrayLike, shape: list[int]) -> bytes:
    return DecthingsTensor(np.asarray(values, dtype="<f4").reshape(shape), "f32", shape).serialize()


def _weights(state: StateData) -> tuple[npt.NDArray[np.float64], float]:
    try:
        weights = DecthingsTensor.deserialize(state["weights"])[0].numpy().astype(np.float64)
        bias = float(DecthingsTensor.deserialize(state["bias"])[0].item())  # type: ignore[arg-type]
    except (KeyError, ValueError) as exc:
        raise ModelException("instantiateModel", f"the state has no valid weights/bias: {exc}") from None
    return weights, bias


class LinearRegressor(Builtin):
    gd_steps: int = 4  # gradient-descent steps before the exact fit
    gd_iterations: int = 5  # iterations per step (few, so the loss visibly falls step by step)

    def create_state(self, params: TensorParams) -> StateData:
        given = _inputs(params, self.definitions["createState"], "createState").get("inputSize", [])
        size = int(given[0].item()) if given else 0  # type: ignore[arg-type]
        if size < 0:
            raise ModelException("createState", f"inputSize must not be negative, got {size}")
        return {"weights": _f32(np.zeros(size), [size]), "bias": _f32([0.0], [])}

    def evaluate(self, state: StateData, params: TensorParams) -> list[tuple[str, list[DecthingsTensor]]]:
        inputs = _inputs(params, self.definitions["evaluateInput"], "evaluate")["input"]
        weights, bias = _weights(state)
        out = []
        for i, t in enumerate(inputs):
            x = t.numpy().astype(np.float64)
            if weights.size and x.size != weights.size:
                raise ModelException(
                    "evaluate", f"input {i} has {x.size} values; the model was trained on {weights.size}"
                )
            y = float(x @ weights + bias) if weights.size else bias
            out.append(DecthingsTensor(np.asarray(y, dtype="<f4").reshape(()), "f32", []))
        return [("output", out)]

    def train(self, state: StateData, params: TensorParams) -> Generator[TrainStep, None, StateData]:
        given = _inputs(params, self.definitions["train"], "train")
        inputs, targets = given["input"], given["target"]
        if len(inputs) != len(targets):
            raise ModelException(
                "train", f"{len(inputs)} inputs but {len(targets)} targets: they pair up one to one"
            )
        sizes = {t.shape()[0] for t in inputs}
        if len(sizes) != 1:
            raise ModelException("train", f"inputs have different lengths {sorted(sizes)}")
        weights, bias = _weights(state)
        n_features = sizes.pop()
        if weights.size and weights.size != n_features:
            raise ModelException(
                "train", f"inputs have {n_features} values; the state's weights have {weights.size}"
            )
        x = np.stack([t.numpy().astype(np.float64) for t in inputs])
        xa = np.hstack([x, np.ones((len(x), 1))])  # bias as a last weight
        y = np.array([float(t.item()) for t in targets])  # type: ignore[arg-type]
        theta = np.append(weights if weights.size else np.zeros(n_features), bias)
        lipschitz = float(np.linalg.eigvalsh(xa.T @ xa / len(xa)).max()) or 1.0
        total = self.gd_steps + 1
        for step in range(self.gd_steps):
            for _ in range(self.gd_iterations):
                theta = theta - (xa.T @ (xa @ theta - y) / len(xa)) / lipschitz
            yield TrainStep((step + 1) / total, {"loss": float(np.mean((xa @ theta - y) ** 2))})
        theta = np.linalg.lstsq(xa, y, rcond=None)[0]
        yield TrainStep(1.0, {"loss": float(np.mean((xa @ theta - y) ** 2))})
        return {"weights": _f32(theta[:-1], [n_features]), "bias": _f32([theta[-1]], [])}


def _defs(
    create: list[JsonObject], train: list[JsonObject], inputs: list[JsonObject], outputs: list[JsonObject]
) -> JsonObject:
    return {"createState": create, "train": train, "evaluateInput": inputs, "evaluateOutput": outputs}


BUILTINS: Final[dict[str, Builtin]] = {
    b.kind: b
    for b in (
        TextEmbedder(
            "text-embedder",
            "decthings-text-embedder",
            "Text embedder",
            f"Embeds each string tensor as {TEXT_DIM} float32s "
            "(hashed word and character n-grams, L2-normalised).",
            _defs(
                [], [], [definition("input", [], ["string"])], [definition("embedding", [TEXT_DIM], ["f32"])]
            ),
            [{"tag": "type", "value": "text-embedding"}],
        ),
        Summer(
            "sum",
            "decthings-sum",
            "Sum",
            "Sums each f32 or f64 tensor (of any shape) to an f64 scalar.",
            _defs([], [], [definition("input", [-1], ["f32", "f64"])], [definition("output", [], ["f64"])]),
            [{"tag": "type", "value": "numeric"}],
        ),
        LinearRegressor(
            "linear-regressor",
            "decthings-linear-regressor",
            "Linear regressor",
            "Predicts w . x + b from an f32 vector; train it on `input` (f32 [N]) and `target` (f32 []).",
            _defs(
                [definition("inputSize", [], list(INTEGER_TYPES), required=False)],
                [definition("input", [-1], ["f32"]), definition("target", [], ["f32"])],
                [definition("input", [-1], ["f32"])],
                [definition("output", [], ["f32"])],
            ),
            [{"tag": "type", "value": "regression"}],
        ),
    )
}


def builtin(kind: Any) -> Builtin | None:
    return BUILTINS.get(kind) if isinstance(kind, str) else None
