"""Predicted concepts of stored inputs, for the `output` concept terms of legacy searches.

Clarifai 2.x searched "predicted concepts": every input added to an app was run through the
app's base model, and ``{"output": {"data": {"concepts": [...]}}}`` in ``Query.ands`` matched
the inputs whose prediction had those concepts. The emulator's equivalent: an input's prediction
is what the public built-in model of its modality returns for it (see `builtin_models`) —
``general-image-recognition`` for images, ``general-text-classification`` for text — and it
*has* a concept when that concept scores above `PREDICTED` (0.5). Only inputs whose processing
succeeded have a prediction; video and audio inputs have none.

Predictions are computed when a search first needs them and cached by content (SHA-256), so
identical content is scored once and a changed label never makes them stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from modelwire.emulator.clarifai.builtin_models import BUILTINS
from modelwire.emulator.clarifai.failures import S
from modelwire.emulator.clarifai.predicting import ConceptModel, ContentScorer
from modelwire.emulator.clarifai.queries import PREDICTED, Prediction
from modelwire.emulator.clarifai.records import IN_APP, Owner, Records, placeholders

__all__ = ["PREDICTED", "SCORERS", "Prediction", "Predictions"]

_CACHED = 10_000  # contents whose predictions are kept
# The built-in concept model of each modality.
SCORERS: Mapping[str, ContentScorer] = {
    b.predictor.kind: b.predictor.score for b in BUILTINS if isinstance(b.predictor, ConceptModel)
}


class Predictions:
    def __init__(self, records: Records) -> None:
        self._records = records
        self._cache: OrderedDict[tuple[str, str], dict[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def of_app(self, owner: Owner) -> dict[str, Prediction]:
        """The prediction of every processed text and image input of the app, by input id."""
        kinds = sorted(SCORERS)
        rows = self._records.store.query(
            f"SELECT id, kind, content_sha FROM clarifai_inputs WHERE {IN_APP} AND status = ? "
            f"AND content_sha IS NOT NULL AND kind IN ({placeholders(kinds)})",
            [*owner, S.INPUT_DOWNLOAD_SUCCESS, *kinds],
        )
        result: dict[str, Prediction] = {}
        for row in rows:
            prediction = self._prediction(row["kind"], row["content_sha"])
            if prediction is not None:
                result[row["id"]] = prediction
        return result

    def _prediction(self, kind: str, sha: str) -> dict[str, float] | None:
        key = (kind, sha)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        row = self._records.store.one("SELECT data FROM clarifai_blobs WHERE sha = ?", (sha,))
        if row is None:  # deleted meanwhile
            return None
        try:
            scored = SCORERS[kind](bytes(row["data"]))
        except Exception:  # content that processed but does not score: no prediction
            return None
        prediction = {concept_id.casefold(): float(score) for concept_id, _, score in scored}
        with self._lock:
            self._cache[key] = prediction
            while len(self._cache) > _CACHED:
                self._cache.popitem(last=False)
        return prediction
