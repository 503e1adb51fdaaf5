"""One representation per score (issue 15): `label_matches` is float32 on the wire and the section
scores are doubles, yet a score reads the same wherever it appears: the float32 value by the
shortest decimal that round-trips through float32 (0.800000011920929 -> 0.8)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelwire._gen.clavata.gateway.v1 import labels_pb2
from modelwire._gen.clavata.shared.v1 import public_pb2
from modelwire.clavata import ClavataClient, EvaluateRequest
from modelwire.clavata.types import LabelEvaluationResult, Report, float32_score
from modelwire.emulator import Emulator


def _f32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def _shortest(x: float) -> float:
    """The oracle: NumPy prints a float32 by its shortest round-tripping decimal (Dragon4)."""
    return float(str(np.float32(x)))


def _report(score: float) -> public_pb2.PolicyEvaluationReport:
    pb = public_pb2.PolicyEvaluationReport(policy_id="p")
    section = pb.section_evaluation_reports.add(name="Violence")
    section.review_result.outcome = public_pb2.OUTCOME_TRUE
    section.review_result.score = score
    section.assertion_evaluation_reports.add(message="attack", score=score)
    pb.review_result.outcome = public_pb2.OUTCOME_TRUE
    pb.review_result.score = score
    pb.label_matches["Violence"] = score  # float32 on the wire
    pb.token_usage.multiplier = 1.1  # float32 too
    return pb


@pytest.mark.parametrize("score", [0.8, 1 - 0.2**2, 1 - 0.2**3, 0.1, 1 / 3, 0.0, 1.0])
def test_a_score_reads_the_same_everywhere(score: float) -> None:
    report = Report(_report(score))
    shown = report.matches["Violence"]
    assert report.label_matches["Violence"] == shown
    assert report.score == report.review_result.score == shown
    assert report.sections[0].score == report.sections[0].assertions[0].score == shown
    assert shown == _shortest(score)


def test_the_reported_case() -> None:
    report = Report(_report(0.8))
    assert report.label_matches == {"Violence": 0.8} == report.matches  # not 0.800000011920929
    assert repr(report.label_matches["Violence"]) == "0.8"
    assert report.token_usage is not None and report.token_usage.multiplier == 1.1


def test_label_evaluations_use_the_same_rule() -> None:
    pb = labels_pb2.EvaluateLabelsResponse.LabelResult(label_id="l")
    pb.evaluation.score = 1 - 0.2**2  # 0.96 as a double: 0.9600000000000001
    pb.evaluation.outcome = public_pb2.OUTCOME_TRUE
    evaluation = LabelEvaluationResult.from_proto(pb).evaluation
    assert evaluation is not None and repr(evaluation.score) == "0.96"


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_shortest_repr_round_trips_through_float32(value: float) -> None:
    shown = float32_score(value)
    assert _f32(shown) == value  # the same float32: nothing lost
    assert shown == _shortest(value)  # by its shortest decimal
    assert float32_score(shown) == shown  # and stable


def test_the_emulators_scores_read_the_same() -> None:
    with (
        Emulator(api_key="scores") as emulator,
        ClavataClient(host="127.0.0.1", port=emulator.port, auth_token="scores") as client,
    ):
        [response] = client.evaluate(
            EvaluateRequest(content=["I will attack and kill you"], policy_id="demo-policy")
        )
    report = response.report
    assert report is not None
    assert report.label_matches == report.matches == {"Violence": 0.96}


def test_scores_near_float32s_largest_value_keep_their_digits() -> None:
    # 3.4025e38 rounded to 4 digits is 3.403e38, past float32's maximum: it needs more digits
    assert float32_score(3.4028234663852886e38) == 3.4028235e38  # float32's largest, shortest form
    assert float32_score(3.4025001647762064e38) == 3.4025002e38
