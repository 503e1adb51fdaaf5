"""Streaming evaluation, evaluate_one and labels, against the emulator (sync and async clients)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelwire._gen.clavata.shared.v1 import public_pb2
from modelwire.clavata import (
    ContentData,
    EvaluateLabelsRequest,
    EvaluateOneRequest,
    EvaluateRequest,
    EvaluationRefusedError,
    NotFoundError,
    Outcome,
    RefusalReason,
)
from modelwire.emulator.clavata.policy import content_hash


def test_evaluate_streams_one_typed_response_per_item(client: Any) -> None:
    texts = ["I will attack you", "what a lovely day", "swimming is fun"]
    responses = list(client.evaluate(EvaluateRequest(content=texts, policy_id="demo-policy")))

    assert len(responses) == 3
    assert len({r.job_uuid for r in responses}) == 1
    by_outcome = [r.report.outcome for r in responses]
    assert by_outcome == [Outcome.TRUE, Outcome.FALSE, Outcome.FALSE]
    first = responses[0]
    assert first.content_hash.startswith("fnv1a128::")
    assert first.report.content_hash == first.content_hash
    assert first.report.policy_id == "demo-policy"
    assert first.report.policy_name == "Demo"
    assert first.matches == {"Violence": pytest.approx(0.8)}
    assert first.report.label_matches == pytest.approx(first.matches)  # proto float: 32-bit
    violence = first.report.sections[0]
    assert violence.name == "Violence" and violence.matched
    assert violence.assertions and "attack" in violence.assertions[0].message
    assert first.report.token_usage is not None and first.report.token_usage.input_tokens == 4


@pytest.mark.parametrize("count", [1, 8, 9, 72, 73, 137])
def test_every_item_is_answered_once_in_order_across_the_emulators_runs(client: Any, count: int) -> None:
    # The emulator evaluates 8 items, then 64 at a time, before sending them: around those edges
    # no item may be dropped, repeated or reordered.
    texts = [f"{'attack' if i % 5 == 0 else 'calm'} message {i}" for i in range(count)]
    responses = list(client.evaluate(EvaluateRequest(content=texts, policy_id="demo-policy")))
    expected = [(content_hash(public_pb2.ContentData(text=t)), i % 5 == 0) for i, t in enumerate(texts)]
    assert [(r.content_hash, r.report.outcome == Outcome.TRUE) for r in responses] == expected


def test_metadata_is_echoed_for_correlation(client: Any) -> None:
    contents = [ContentData(text=f"item {i} kill", metadata={"row": str(i)}) for i in range(5)]
    responses = list(client.evaluate(EvaluateRequest(content=contents, policy_id="demo-policy")))
    assert [r.report.content_metadata["row"] for r in responses] == ["0", "1", "2", "3", "4"]


def test_request_threshold_overrides_policy(client: Any) -> None:
    strict = list(client.evaluate(EvaluateRequest(content="kill", policy_id="demo-policy", threshold=0.9)))
    assert strict[0].report.outcome == Outcome.FALSE
    assert strict[0].report.threshold == pytest.approx(0.9)
    twice = list(
        client.evaluate(EvaluateRequest(content="kill and attack", policy_id="demo-policy", threshold=0.9))
    )
    assert twice[0].report.outcome == Outcome.TRUE


def test_unless_exception_suppresses_section(client: Any) -> None:
    (response,) = client.evaluate(
        EvaluateRequest(content="shooting in a video game", policy_id="demo-policy")
    )
    violence = response.report.sections[0]
    assert violence.outcome == Outcome.FALSE
    assert violence.exception is not None and violence.exception.review_result.outcome == Outcome.TRUE


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_supported_images_are_evaluated(client: Any, images: dict[str, bytes], fmt: str) -> None:
    (response,) = client.evaluate(EvaluateRequest(content=images[fmt], policy_id="demo-policy"))
    assert response.report.outcome == Outcome.FALSE


def test_image_url_from_a_local_file(client: Any, images: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(images["png"])
    request = EvaluateRequest(content=ContentData(image_url=path.as_uri()), policy_id="demo-policy")
    (response,) = client.evaluate(request)
    assert response.report.outcome == Outcome.FALSE


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("blocked", RefusalReason.CSAM),
        ("gif", RefusalReason.UNSUPPORTED_FORMAT),
        ("corrupt_png", RefusalReason.INVALID_CONTENT),
    ],
)
def test_each_refusal_reason_is_hydrated(
    client: Any, images: dict[str, bytes], image: str, reason: RefusalReason
) -> None:
    request = EvaluateRequest(content=["fine text", images[image]], policy_id="demo-policy")
    with pytest.raises(EvaluationRefusedError) as caught:
        list(client.evaluate(request))
    err = caught.value
    assert [r.reason for r in err.refusals] == [reason]
    assert err.first_reason == err.top_reason == err.most_common_reason == reason
    assert err.refused_content_hashes == [err.refusals[0].content_hash]
    assert err.refusals[0].content_hash.startswith("fnv1a128::")
    assert err.refusals[0].message
    assert err.code.name == "FAILED_PRECONDITION"
    assert err.original_error is not None and reason.name in str(err)


def test_refusal_properties_over_several_items(client: Any, images: dict[str, bytes]) -> None:
    content = [images["corrupt_png"], images["gif"], images["blocked"], images["corrupt_png"], images["png"]]
    with pytest.raises(EvaluationRefusedError) as caught:
        client.create_job(content=content, policy_id="demo-policy")
    err = caught.value
    assert [r.reason for r in err.refusals] == [
        RefusalReason.INVALID_CONTENT,
        RefusalReason.UNSUPPORTED_FORMAT,
        RefusalReason.CSAM,
        RefusalReason.INVALID_CONTENT,
    ]
    assert err.top_reason == RefusalReason.CSAM
    assert err.most_common_reason == RefusalReason.INVALID_CONTENT
    assert err.first_reason == RefusalReason.INVALID_CONTENT
    assert len(err.refused_content_hashes) == 3  # the corrupt image twice counts once, order kept
    assert err.refused_content_hashes[0] == err.refusals[0].content_hash


def test_unknown_policy_is_not_found_with_known_ids(client: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        list(client.evaluate(EvaluateRequest(content="x", policy_id="no-such-policy")))
    assert "demo-policy" in str(caught.value)


def test_evaluate_one_waits_and_returns_the_report(client: Any) -> None:
    one = client.evaluate_one(EvaluateOneRequest(content="attack!", policy_id="demo-policy"))
    assert one.status == "COMPLETED"
    assert one.report is not None and one.report.outcome == Outcome.TRUE
    assert one.content_hash == one.report.content_hash


def test_evaluate_one_without_waiting_has_no_report_yet(client: Any) -> None:
    one = client.evaluate_one(content="attack!", policy_id="demo-policy", wait_for_completion=False)
    assert one.report is None  # the published SDK raised IndexError here
    assert one.status in ("PENDING", "RUNNING", "COMPLETED")
    assert one.content_hash.startswith("fnv1a128::")


def test_evaluate_labels_per_label_results_in_order(client: Any) -> None:
    response = client.beta.evaluate_labels(
        EvaluateLabelsRequest(
            content="I will attack with a sword",
            label_version_ids=["Violence", "demo-policy:Weapons", "missing-label"],
            include_evaluation_report=True,
        )
    )
    violence, weapons, missing = response.results
    assert violence.label_id == "demo-policy:Violence" and violence.evaluation.outcome == Outcome.TRUE
    assert violence.evaluation.report is not None
    assert [s.name for s in violence.evaluation.report.sections] == ["Violence"]
    assert weapons.evaluation.outcome == Outcome.TRUE
    assert missing.evaluation is None and "missing-label" in missing.error.message
    assert len({r.job_uuid for r in response.results}) == 1
