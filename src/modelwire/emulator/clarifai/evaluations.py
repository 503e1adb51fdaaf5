"""Evaluations of trained classifier versions: PostEvaluations, GetEvaluation,
ListModelVersionEvaluations.

PostEvaluations takes `eval_metrics` entries naming a model of the caller's app and a trained
version of it (default: the newest trained one), optionally a `ground_truth_dataset` (id, app of
the same user, version). An evaluation starts MODEL_QUEUED_FOR_EVALUATION; a worker moves it to
MODEL_EVALUATING, then MODEL_EVALUATED or MODEL_EVALUATION_FAILED with the reason (each phase
lasts `Timing.train_delay`). It scores every input of the ground-truth dataset of the model's
modality, or without one the version's held-out split of its training inputs (its dataset, or the
app's inputs labelled with its concepts when it trained without one; see `training`),
against their positive concepts among the model's, at the version's default temperature.

Results (`learning.evaluate`; ROC AUC is 0 for a concept without both positives and negatives,
and left out of the macro average):

* `summary`: top1/top5 accuracy, macro average (and std) ROC AUC and F1, macro precision/recall;
* `confusion_matrix`: an entry per (predicted, actual) concept pair; each labelled input adds 1,
  shared among its actual concepts, to the row of its top-1 prediction;
* `label_counts`: positives per concept; `test_set`: each input with its predicted concepts (all,
  best first) and its ground-truth concepts;
* `binary_metrics`: per concept, threshold-free metrics (counts, ROC AUC, average precision, the
  ROC and precision-recall curves) and F1 of the top-1 decisions;
* `metrics_by_class`: per concept, the top-1 decisions' precision and recall (a one-point
  `precision_recall_curve`) and F1.

PostEvaluations and ListModelVersionEvaluations (newest first) return the summary only;
GetEvaluation adds each other part when its `fields` flag is set, as the real API does.
Evaluations still queued or running when the emulator stops run again on restart.

PostModelVersionMetrics (what legacy `model.evaluate()` calls) starts an evaluation of
`version_id` (default: the newest trained version) on its held-out split, as PostEvaluations
without a ground-truth dataset does, and answers with the version whose `metrics` is the new
evaluation (MODEL_QUEUED_FOR_EVALUATION); GetModelVersion and ListModelVersions show a version's
newest evaluation in `metrics` (summary and status), so polling GetModelVersion follows it to
MODEL_EVALUATED or MODEL_EVALUATION_FAILED. An unknown model or version is MODEL_DOES_NOT_EXIST,
a version that is not a trained classifier MODEL_INVALID_ARGUMENT; `test_search` is not supported
(MODEL_INVALID_ARGUMENT: evaluate against a dataset with PostEvaluations instead).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.context import Context, Route
from modelwire.emulator.clarifai.failures import ApiFailure, S, status
from modelwire.emulator.clarifai.jobs import JobFailed, Phases, Timing, run_phases
from modelwire.emulator.clarifai.labels import new_id
from modelwire.emulator.clarifai.learning import (
    ConceptReport,
    LinearModel,
    Matrix,
    Report,
    evaluate,
    held_out,
)
from modelwire.emulator.clarifai.predicting import model_ref, settings_of
from modelwire.emulator.clarifai.records import (
    EVALUATION,
    IN_APP,
    Owner,
    Page,
    Records,
    check_id,
    request_page,
)
from modelwire.emulator.clarifai.registry import TRAINED, Registry
from modelwire.emulator.clarifai.training import (
    DatasetRef,
    Example,
    Examples,
    TrainingRef,
    labelled,
    training_ref,
)

EVALUATING = Phases(running=S.MODEL_EVALUATING, failed=S.MODEL_EVALUATION_FAILED)
_BUSY = (S.MODEL_QUEUED_FOR_EVALUATION, S.MODEL_EVALUATING)
_PARTS = (
    "confusion_matrix",
    "cooccurrence_matrix",
    "label_counts",
    "binary_metrics",
    "test_set",
    "metrics_by_area",
    "metrics_by_class",
)


def view(metrics: resources_pb2.EvalMetrics, fields: resources_pb2.FieldsValue) -> resources_pb2.EvalMetrics:
    """The evaluation with only the parts `fields` asks for (the summary is always there)."""
    result = resources_pb2.EvalMetrics()
    result.CopyFrom(metrics)
    for part in _PARTS:
        if not getattr(fields, part):
            result.ClearField(part)  # type: ignore[arg-type]
    return result


def latest_metrics(
    records: Records, owner: Owner, model_id: str, version_id: str
) -> resources_pb2.EvalMetrics | None:
    """The newest evaluation of a model version (summary only), or None."""
    found = records.listing(
        EVALUATION,
        owner,
        resources_pb2.EvalMetrics,
        Page(1, 1),
        parent=model_id,
        where="facet = ?",
        params=[version_id],
    )
    return view(found[0], resources_pb2.FieldsValue()) if found else None


class EvaluationsArea:
    def __init__(self, ctx: Context, registry: Registry, examples: Examples, timing: Timing) -> None:
        self._ctx = ctx
        self._records = ctx.records
        self._registry = registry
        self._examples = examples
        self._timing = timing

    def routes(self) -> dict[str, Route]:
        return {
            "PostEvaluations": Route(Scope.APP, self.post_evaluations),
            "GetEvaluation": Route(Scope.APP, self.get_evaluation),
            "ListModelVersionEvaluations": Route(Scope.APP, self.list_model_version_evaluations),
            "PostModelVersionMetrics": Route(Scope.APP, self.post_model_version_metrics),
        }

    # -- RPCs ---------------------------------------------------------------------------------------------

    def post_evaluations(
        self, caller: Caller, request: service_pb2.PostEvaluationsRequest
    ) -> service_pb2.MultiEvalMetricsResponse:
        if not request.eval_metrics:
            raise ApiFailure(S.EVALUATION_INVALID_ARGUMENT, "send the evaluations to run in eval_metrics")
        created = [self._create(caller.owner, given) for given in request.eval_metrics]
        summary = resources_pb2.FieldsValue()
        return service_pb2.MultiEvalMetricsResponse(eval_metrics=[view(m, summary) for m in created])

    def get_evaluation(
        self, caller: Caller, request: service_pb2.GetEvaluationRequest
    ) -> service_pb2.SingleEvalMetricsResponse:
        found = self._find(caller.owner, request.evaluation_id)
        if found is None:
            raise ApiFailure(
                EVALUATION.missing,
                f"evaluation {request.evaluation_id!r} does not exist in {self._records.where(caller.owner)}",
            )
        return service_pb2.SingleEvalMetricsResponse(eval_metrics=view(found, request.fields))

    def list_model_version_evaluations(
        self, caller: Caller, request: service_pb2.ListModelVersionEvaluationsRequest
    ) -> service_pb2.MultiEvalMetricsResponse:
        owner = caller.owner
        self._registry.model(owner, request.model_id)
        self._registry.version(owner, request.model_id, request.model_version_id)
        found = self._records.listing(
            EVALUATION,
            owner,
            resources_pb2.EvalMetrics,
            request_page(request),
            parent=request.model_id,
            where="facet = ?",
            params=[request.model_version_id],
        )
        summary = resources_pb2.FieldsValue()
        return service_pb2.MultiEvalMetricsResponse(eval_metrics=[view(m, summary) for m in found])

    def post_model_version_metrics(
        self, caller: Caller, request: service_pb2.PostModelVersionMetricsRequest
    ) -> service_pb2.SingleModelVersionResponse:
        owner = caller.owner
        model = self._registry.model(owner, request.model_id)
        if request.version_id:
            self._registry.version(owner, model.id, request.version_id)
        if request.HasField("test_search"):
            raise ApiFailure(
                S.MODEL_INVALID_ARGUMENT,
                "test_search is not supported by the emulator: the version is evaluated on its held-out "
                "split; to evaluate on other inputs, put them in a dataset and use PostEvaluations with "
                "ground_truth_dataset",
            )
        given = resources_pb2.EvalMetrics(
            model=resources_pb2.Model(
                id=model.id, model_version=resources_pb2.ModelVersion(id=request.version_id)
            )
        )
        if request.HasField("eval_info"):
            given.eval_info.CopyFrom(request.eval_info)
        created = self._create(owner, given)
        version = self._registry.version(owner, model.id, created.model.model_version.id)
        version.metrics.CopyFrom(view(created, resources_pb2.FieldsValue()))
        return service_pb2.SingleModelVersionResponse(model_version=version)

    # -- creating ---------------------------------------------------------------------------------------

    def _find(self, owner: Owner, evaluation_id: str) -> resources_pb2.EvalMetrics | None:
        """An evaluation by id, whichever model it is of (ids are unique in an app)."""
        row = self._records.store.one(
            f"SELECT proto FROM clarifai_objects WHERE kind = ? AND {IN_APP} AND id = ?",
            (EVALUATION.name, *owner, evaluation_id),
        )
        return None if row is None else resources_pb2.EvalMetrics.FromString(row["proto"])

    def _create(self, owner: Owner, given: resources_pb2.EvalMetrics) -> resources_pb2.EvalMetrics:
        metrics = resources_pb2.EvalMetrics(
            id=given.id or new_id(), status=status(S.MODEL_QUEUED_FOR_EVALUATION)
        )
        for part in ("eval_info", "extended_metrics"):
            if given.HasField(part):
                getattr(metrics, part).CopyFrom(getattr(given, part))
        check_id(EVALUATION, metrics.id)
        if self._find(owner, metrics.id) is not None:
            raise ApiFailure(
                EVALUATION.duplicate,
                f"evaluation {metrics.id!r} already exists in {self._records.where(owner)}: use another id",
            )
        model = self._evaluated_model(owner, given.model)
        metrics.model.CopyFrom(model_ref(model))
        dataset = given.ground_truth_dataset
        if dataset.id:
            if dataset.user_id not in ("", owner.user_id):
                raise ApiFailure(
                    S.EVALUATION_INVALID_ARGUMENT,
                    f"the ground-truth dataset must belong to user {owner.user_id!r}, "
                    f"not {dataset.user_id!r}",
                )
            metrics.ground_truth_dataset.CopyFrom(
                resources_pb2.Dataset(
                    id=dataset.id,
                    user_id=owner.user_id,
                    app_id=dataset.app_id or owner.app_id,
                    version=resources_pb2.DatasetVersion(id=dataset.version.id),
                )
            )
        (created,) = self._records.create(EVALUATION, owner, [metrics], parent=model.id)
        self._ctx.workers.submit(self._evaluate, owner, model.id, created.id)
        return created

    def _evaluated_model(self, owner: Owner, given: resources_pb2.Model) -> resources_pb2.Model:
        """The model (with the version) to evaluate: a trained classifier version of this app."""
        if (given.user_id or owner.user_id, given.app_id or owner.app_id) != owner:
            raise ApiFailure(
                S.EVALUATION_INVALID_ARGUMENT,
                f"evaluate models of {self._records.where(owner)} (set model.user_id/app_id to it or leave "
                "them empty)",
            )
        model = self._registry.model(owner, given.id)
        version_id = given.model_version.id
        if not version_id:
            latest = self._registry.latest(owner, model.id, trained=True)
            version_id = latest.id if latest is not None else ""
        if not version_id:
            raise ApiFailure(
                S.MODEL_INVALID_ARGUMENT, f"model {model.id!r} has no trained version to evaluate"
            )
        with_version = self._registry.with_version(owner, model, version_id)
        version = with_version.model_version
        if version.status.code != TRAINED or self._registry.weights(owner, model.id, version.id) is None:
            raise ApiFailure(
                S.MODEL_INVALID_ARGUMENT,
                f"version {version.id!r} of model {model.id!r} cannot be evaluated: only trained classifier "
                f"versions can (it is {S.Name(version.status.code)})",
            )
        return with_version

    # -- the worker ---------------------------------------------------------------------------------------

    def resume(self) -> None:
        """Run again the evaluations a previous run left queued or running (file-backed store)."""
        rows = self._records.store.query(
            "SELECT user_id, app_id, parent, proto FROM clarifai_objects WHERE kind = ? ORDER BY created_ns",
            (EVALUATION.name,),
        )
        for row in rows:
            metrics = resources_pb2.EvalMetrics.FromString(row["proto"])
            if metrics.status.code in _BUSY:
                owner = Owner(row["user_id"], row["app_id"])
                self._update(
                    owner, row["parent"], metrics.id, _with_status(status(S.MODEL_QUEUED_FOR_EVALUATION))
                )
                self._ctx.workers.submit(self._evaluate, owner, row["parent"], metrics.id)

    def _update(
        self,
        owner: Owner,
        model_id: str,
        evaluation_id: str,
        edit: Callable[[resources_pb2.EvalMetrics], None],
    ) -> bool:
        with self._records.store.transaction() as conn:
            metrics = self._records.get(EVALUATION, owner, evaluation_id, resources_pb2.EvalMetrics, model_id)
            if metrics is None:
                return False
            edit(metrics)
            self._records.save(conn, EVALUATION, owner, metrics, parent=model_id, created_ns=0)
        return True

    def _evaluate(self, owner: Owner, model_id: str, evaluation_id: str) -> None:
        run_phases(
            self._ctx,
            self._timing,
            EVALUATING,
            lambda new: self._update(owner, model_id, evaluation_id, _with_status(new)),
            lambda: self._work(owner, model_id, evaluation_id),
            f"evaluation {evaluation_id} of model {model_id}",
        )

    def _work(self, owner: Owner, model_id: str, evaluation_id: str) -> None:
        metrics = self._records.get(EVALUATION, owner, evaluation_id, resources_pb2.EvalMetrics, model_id)
        if metrics is None:
            return
        try:
            version = self._registry.version(owner, model_id, metrics.model.model_version.id)
        except ApiFailure as failure:
            raise JobFailed(failure.details) from None
        weights = self._registry.weights(owner, model_id, version.id)
        if weights is None:
            raise JobFailed(f"version {version.id!r} of model {model_id!r} has no trained weights")
        examples = self._evaluation_set(owner, metrics, version, weights)
        truth = labelled(examples, weights.concept_ids)
        if not truth.any():
            raise JobFailed(
                f"none of the {len(examples)} evaluation inputs shows any of the model's concepts "
                f"({', '.join(weights.concept_ids)})"
            )
        x = np.stack([e.vector for e in examples]).astype(np.float64)
        scores = weights.scores(x, settings_of(version.output_info).temperature)
        names = {c.id: c.name or c.id for c in version.output_info.data.concepts}
        results = _results(evaluate(scores, truth), weights, names, examples, scores)
        for example, entry in zip(examples, results.test_set, strict=True):
            self._ctx.hosting.render(entry.input.data, example.kind, example.sha)
        results.status.CopyFrom(status(S.MODEL_EVALUATED))
        self._update(owner, model_id, evaluation_id, lambda stored: stored.MergeFrom(results))

    def _evaluation_set(
        self,
        owner: Owner,
        metrics: resources_pb2.EvalMetrics,
        version: resources_pb2.ModelVersion,
        weights: LinearModel,
    ) -> list[Example]:
        dataset = metrics.ground_truth_dataset
        ref: TrainingRef
        if dataset.id:
            ref = DatasetRef(Owner(owner.user_id, dataset.app_id), dataset.id, dataset.version.id)
            chosen = [e for e in self._examples.load(ref) if e.kind == weights.modality]
            where = str(ref)
        else:
            ref = training_ref(owner, version)
            chosen = [
                e for e in self._examples.load(ref) if e.kind == weights.modality and held_out(e.input.id)
            ]
            where = f"the held-out split of {ref}"
        if not chosen:
            raise JobFailed(f"{where} has no processed {weights.modality} inputs to evaluate on")
        return chosen


def _with_status(new: status_pb2.Status) -> Callable[[resources_pb2.EvalMetrics], None]:
    return lambda metrics: metrics.status.CopyFrom(new)


class _Concepts:
    """Concept protos of the model's concepts (with their names)."""

    def __init__(self, names: dict[str, str]) -> None:
        self._names = names

    def __call__(self, concept_id: str, value: float | None = None) -> resources_pb2.Concept:
        concept = resources_pb2.Concept(id=concept_id, name=self._names.get(concept_id, concept_id))
        if value is not None:
            concept.value = value
        return concept


def _summary(report: Report) -> resources_pb2.MetricsSummary:
    return resources_pb2.MetricsSummary(
        top1_accuracy=report.top1_accuracy,
        top5_accuracy=report.top5_accuracy,
        macro_avg_roc_auc=report.macro_roc_auc[0],
        macro_std_roc_auc=report.macro_roc_auc[1],
        macro_avg_f1_score=report.macro_f1[0],
        macro_std_f1_score=report.macro_f1[1],
        macro_avg_precision=report.macro_precision,
        macro_avg_recall=report.macro_recall,
    )


def _confusion(report: Report, ids: Sequence[str], concept: _Concepts) -> resources_pb2.ConfusionMatrix:
    matrix = resources_pb2.ConfusionMatrix(concept_ids=ids)
    for p, predicted in enumerate(ids):
        for a, actual in enumerate(ids):
            matrix.matrix.add(
                predicted=predicted,
                actual=actual,
                value=float(report.confusion[p, a]),
                predicted_concept=concept(predicted),
                actual_concept=concept(actual),
            )
    return matrix


def _binary(stats: ConceptReport, concept: resources_pb2.Concept) -> resources_pb2.BinaryMetrics:
    """Threshold-free metrics of one concept (and the F1 of the top-1 decisions)."""
    curves = stats.curves
    return resources_pb2.BinaryMetrics(
        concept=concept,
        num_pos=stats.num_pos,
        num_neg=stats.num_neg,
        num_tot=stats.num_pos + stats.num_neg,
        roc_auc=stats.roc_auc or 0.0,
        avg_precision=stats.average_precision or 0.0,
        f1=stats.f1,
        roc_curve=resources_pb2.ROC(fpr=curves.fpr, tpr=curves.tpr, thresholds=curves.thresholds),
        precision_recall_curve=resources_pb2.PrecisionRecallCurve(
            recall=curves.tpr, precision=curves.precision, thresholds=curves.thresholds
        ),
    )


def _by_class(stats: ConceptReport, concept: resources_pb2.Concept) -> resources_pb2.BinaryMetrics:
    """The top-1 decisions' precision, recall (as a one-point curve) and F1 for one concept."""
    return resources_pb2.BinaryMetrics(
        concept=concept,
        num_pos=stats.num_pos,
        num_neg=stats.num_neg,
        num_tot=stats.num_pos + stats.num_neg,
        f1=stats.f1,
        precision_recall_curve=resources_pb2.PrecisionRecallCurve(
            precision=[stats.precision], recall=[stats.recall]
        ),
    )


def _test_entry(
    example: Example, ids: Sequence[str], scores: Sequence[float], concept: _Concepts
) -> resources_pb2.EvalTestSetEntry:
    ranked = sorted(zip(ids, scores, strict=True), key=lambda pair: (-pair[1], pair[0]))
    return resources_pb2.EvalTestSetEntry(
        input=resources_pb2.Input(id=example.input.id, data=example.input.data),
        predicted_concepts=[concept(c, float(v)) for c, v in ranked],
        ground_truth_concepts=[concept(c, 1.0) for c in ids if c in example.concepts],
    )


def _results(
    report: Report, weights: LinearModel, names: dict[str, str], examples: Sequence[Example], scores: Matrix
) -> resources_pb2.EvalMetrics:
    ids = weights.concept_ids
    concept = _Concepts(names)
    results = resources_pb2.EvalMetrics(
        summary=_summary(report), confusion_matrix=_confusion(report, ids, concept)
    )
    for concept_id, stats in zip(ids, report.concepts, strict=True):
        results.label_counts.positive_label_counts.add(
            concept_name=concept(concept_id).name, count=stats.num_pos, concept=concept(concept_id)
        )
        results.binary_metrics.append(_binary(stats, concept(concept_id)))
        results.metrics_by_class.append(_by_class(stats, concept(concept_id)))
    results.test_set.extend(
        _test_entry(e, ids, row, concept) for e, row in zip(examples, scores, strict=True)
    )
    return results
