"""Hypothesis fuzzing of the public API: whatever a caller passes, only ModelwireError escapes.

Wrong types, extremes, huge and negative numbers, NaN, non-UTF-8 bytes, lone surrogates and empty
strings go to the Clavata client (against the running emulator) and its request helpers, Clarifai's
`Inputs` builders and `Search.query` rank/filter dicts, and `DecthingsTensor`. An error the SDK
raises must be typed (a `ModelwireError` subclass, saying what to change); a raw TypeError,
ValueError or UnicodeEncodeError is a defect. Derandomized, so CI sees the same cases every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, get_args

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import FuzzCounter

from modelwire._core.errors import ModelwireError
from modelwire.clarifai import Inputs, Search
from modelwire.clavata import (
    ClavataClient,
    ContentData,
    CreateJobRequest,
    EvaluateLabelsRequest,
    EvaluateOneRequest,
    EvaluateRequest,
    GetJobRequest,
    ListJobsQuery,
    TimeRange,
    VideoContent,
    sign_webhook,
    verify_webhook,
)
from modelwire.decthings import DecthingsTensor
from modelwire.decthings.tensor import DecthingsTensorType
from modelwire.emulator import Emulator

EXAMPLES = 250
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

# Every code point, lone surrogates (category Cs) included.
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
texts = st.one_of(
    st.just(""),
    st.just(" "),
    st.just("\ud800"),
    st.text(ANY_CHAR, max_size=40),
    st.text(max_size=10).map(lambda s: s * 500),  # long, repetitive
)
numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 2**31, 2**32, 2**63, -(2**63) - 1, math.nan, math.inf, -0.0]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts, st.binary(max_size=64), st.just(object()))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(texts, st.integers()), inner, max_size=4),
    ),
    max_leaves=8,
)


def typed_only(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call fn; a ModelwireError is a fine answer, any other exception fails the example."""
    try:
        return fn(*args, **kwargs)
    except ModelwireError:
        return None


def _kwargs(
    fields: dict[str, st.SearchStrategy[Any]], required: tuple[str, ...] = ()
) -> st.SearchStrategy[dict[str, Any]]:
    """Some of the fields (always the required ones), each a plausible value or anything at all.

    Leaving out a required argument is Python's own TypeError, not the SDK's business.
    """
    mixed = {k: st.one_of(v, values) for k, v in fields.items()}
    return st.fixed_dictionaries(
        {k: mixed[k] for k in required}, optional={k: v for k, v in mixed.items() if k not in required}
    )


def built(factory: Callable[..., Any], *args: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Objects made by factory from args; None when it (rightly) refused them."""
    return st.tuples(*args).map(lambda a: typed_only(factory, *a))


content_like = st.one_of(
    texts,
    st.binary(max_size=64),
    st.lists(st.one_of(texts, st.binary(max_size=8)), max_size=3),
    values,
)
datetimes = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(timezone.utc) | st.none()
)

REQUIRED = {
    "VideoContent": ("url",),
    "EvaluateRequest": ("content", "policy_id"),
    "CreateJobRequest": ("content", "policy_id"),
    "EvaluateOneRequest": ("content", "policy_id"),
    "EvaluateLabelsRequest": ("content", "label_version_ids"),
    "GetJobRequest": ("job_uuid",),
}
CLAVATA_HELPERS: dict[str, tuple[Any, dict[str, st.SearchStrategy[Any]]]] = {
    "ContentData": (
        ContentData,
        {
            "text": texts,
            "image": st.binary(max_size=32),
            "image_url": texts,
            "video": st.one_of(texts, built(VideoContent, st.just("https://v"), values)),
            "audio_url": texts,
            "metadata": st.dictionaries(texts, texts, max_size=3),
            "labels": st.lists(texts, max_size=3),
            "title": texts,
            "content_type": texts,
        },
    ),
    "VideoContent": (VideoContent, {"url": texts, "num_frames": numbers}),
    "EvaluateRequest": (
        EvaluateRequest,
        {
            "content": content_like,
            "policy_id": texts,
            "threshold": numbers,
            "options": st.dictionaries(texts, st.one_of(texts, st.booleans()), max_size=3),
            "expedited": st.booleans(),
            "include_evaluation_report": st.booleans(),
        },
    ),
    "CreateJobRequest": (
        CreateJobRequest,
        {
            "content": content_like,
            "policy_id": texts,
            "wait_for_completion": st.booleans(),
            "threshold": numbers,
            "options": st.dictionaries(texts, st.one_of(texts, st.booleans()), max_size=3),
        },
    ),
    "EvaluateOneRequest": (
        EvaluateOneRequest,
        {"content": content_like, "policy_id": texts, "threshold": numbers, "options": values},
    ),
    "EvaluateLabelsRequest": (
        EvaluateLabelsRequest,
        {
            "content": content_like,
            "label_version_ids": st.lists(texts, max_size=12),
            "threshold": numbers,
            "global_context": texts,
            "bypass_cache": st.booleans(),
            "include_evaluation_report": st.booleans(),
        },
    ),
    "GetJobRequest": (GetJobRequest, {"job_uuid": texts}),
    "TimeRange": (TimeRange, {"start": datetimes, "end": datetimes, "inclusive": st.booleans()}),
    "ListJobsQuery": (
        ListJobsQuery,
        {
            "status": texts,
            "page_size": numbers,
            "policy_id": texts,
            "created_time_range": built(TimeRange, datetimes, datetimes),
        },
    ),
}


@pytest.mark.parametrize("name", sorted(CLAVATA_HELPERS))
def test_clavata_request_helpers_raise_only_typed_errors(name: str, fuzz_cases: FuzzCounter) -> None:
    helper, fields = CLAVATA_HELPERS[name]

    @FUZZ
    @given(_kwargs(fields, REQUIRED.get(name, ())))
    def run(kwargs: dict[str, Any]) -> None:
        fuzz_cases()
        built = typed_only(helper, **kwargs)
        if built is not None and hasattr(built, "to_proto"):
            # A helper that accepted its input must also produce a message that serializes.
            proto = typed_only(built.to_proto)
            if proto is not None:
                proto.SerializeToString()

    run()
    assert fuzz_cases.tried >= EXAMPLES // 2


def test_clavata_client_methods_raise_only_typed_errors(emulator: Emulator, fuzz_cases: FuzzCounter) -> None:
    policy = st.one_of(st.just("demo-policy"), texts)
    timeouts = st.one_of(st.just(5.0), numbers, values)
    calls = st.one_of(
        st.tuples(
            st.just("create_job"),
            _kwargs({"content": content_like, "policy_id": policy, "timeout": timeouts}),
        ),
        st.tuples(st.just("evaluate_one"), _kwargs({"content": content_like, "policy_id": policy})),
        st.tuples(st.just("get_job"), st.fixed_dictionaries({"request": st.one_of(texts, values)})),
        st.tuples(
            st.just("list_jobs"),
            _kwargs({"status": texts, "page_size": numbers, "policy_id": texts, "max_items": numbers}),
        ),
        st.tuples(
            st.just("evaluate"),
            _kwargs(
                {
                    "content": content_like,
                    "policy_id": policy,
                    "stream_timeout": timeouts,
                    "message_timeout": timeouts,
                }
            ),
        ),
        st.tuples(
            st.just("evaluate_labels"),
            _kwargs(
                {
                    "content": content_like,
                    "label_version_ids": st.lists(texts, max_size=3),
                    "timeout": timeouts,
                }
            ),
        ),
        st.tuples(
            st.just("wait_for_job"), st.fixed_dictionaries({"job": values, "timeout": st.just(0.2) | numbers})
        ),
    )
    with ClavataClient(
        host="127.0.0.1", port=emulator.port, auth_token="test-key-0123456789", timeout=5
    ) as client:

        @FUZZ
        @given(calls)
        def run(call: tuple[str, dict[str, Any]]) -> None:
            fuzz_cases()
            name, kwargs = call
            result = typed_only(getattr(client, name), **kwargs)
            if name in ("evaluate", "list_jobs") and result is not None:
                typed_only(lambda: next(iter(result), None))
                if hasattr(result, "close"):
                    result.close()

        run()
    assert fuzz_cases.tried >= EXAMPLES // 2


def test_clavata_client_constructor_raises_only_typed_errors(
    emulator: Emulator, fuzz_cases: FuzzCounter
) -> None:
    @FUZZ
    @given(
        _kwargs(
            {
                "host": st.just("127.0.0.1") | texts,
                "port": st.just(emulator.port) | numbers,
                "auth_token": texts,
                "secure": st.booleans(),
                "timeout": numbers,
            }
        )
    )
    def run(kwargs: dict[str, Any]) -> None:
        fuzz_cases()
        if kwargs.get("host") is None or kwargs.get("secure"):
            kwargs["secure"] = False  # never dial TLS or the production default from a test
            kwargs.setdefault("host", "127.0.0.1")
        if isinstance(kwargs.get("host"), str) and kwargs["host"].strip() not in ("", "127.0.0.1"):
            kwargs["host"] = "127.0.0.1"  # loopback only; the empty/blank cases stay
        client = typed_only(ClavataClient, **kwargs)
        if client is not None:
            client.close()

    run()
    assert fuzz_cases.tried >= EXAMPLES // 2


def test_verify_webhook_raises_only_typed_errors(fuzz_cases: FuzzCounter) -> None:
    body = b'{"jobUuid": "abc"}'

    @FUZZ
    @given(
        st.one_of(st.binary(max_size=64), texts, values),
        st.one_of(
            st.dictionaries(st.just("X-Webhook-Signature"), st.one_of(texts, values), max_size=1),
            st.builds(lambda t: {"X-Webhook-Signature": sign_webhook(body, "k", t)}, st.integers(0, 2**40)),
            values,
        ),
        st.one_of(st.just("k"), texts, values),
    )
    def run(raw: Any, headers: Any, secret: Any) -> None:
        fuzz_cases()
        typed_only(verify_webhook, raw, headers, secret, seen=set())

    run()
    assert fuzz_cases.tried >= EXAMPLES // 2


# --- Clarifai ------------------------------------------------------------------------------------


@pytest.fixture
def inputs(emulator: Emulator, api_key: str) -> Inputs:
    return Inputs(
        user_id=emulator.user_id, app_id="fuzz-app", base_url=f"http://127.0.0.1:{emulator.port}", pat=api_key
    )


CLARIFAI_BUILDERS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "get_text_input": {
        "input_id": texts,
        "raw_text": texts,
        "dataset_id": texts,
        "geo_info": values,
        "labels": st.lists(texts, max_size=3),
        "metadata": values,
    },
    "get_input_from_bytes": {
        "input_id": texts,
        "image_bytes": st.binary(max_size=32),
        "text_bytes": st.binary(max_size=32),
        "audio_bytes": values,
        "labels": values,
    },
    "get_input_from_url": {"input_id": texts, "image_url": texts, "video_url": texts, "text_url": values},
    "get_multimodal_input": {
        "input_id": texts,
        "raw_text": texts,
        "text_bytes": st.binary(max_size=16),
        "image_url": texts,
        "image_bytes": st.binary(max_size=16),
    },
    "get_bbox_proto": {
        "input_id": texts,
        "label": texts,
        "bbox": st.lists(numbers, max_size=5),
        "label_id": values,
    },
    "get_mask_proto": {
        "input_id": texts,
        "label": texts,
        "polygons": st.lists(st.lists(numbers, max_size=3), max_size=5),
    },
}


CLARIFAI_REQUIRED = {
    "get_text_input": ("input_id", "raw_text"),
    "get_input_from_bytes": ("input_id",),
    "get_input_from_url": ("input_id",),
    "get_multimodal_input": ("input_id",),
    "get_bbox_proto": ("input_id", "label", "bbox"),
    "get_mask_proto": ("input_id", "label", "polygons"),
}


@pytest.mark.parametrize("builder", sorted(CLARIFAI_BUILDERS))
def test_clarifai_input_builders_raise_only_typed_errors(
    builder: str, inputs: Inputs, fuzz_cases: FuzzCounter
) -> None:
    method = getattr(inputs, builder)

    @FUZZ
    @given(_kwargs(CLARIFAI_BUILDERS[builder], CLARIFAI_REQUIRED[builder]))
    def run(kwargs: dict[str, Any]) -> None:
        fuzz_cases()
        typed_only(method, **kwargs)

    run()


rank_dicts = st.one_of(
    values,
    _kwargs(
        {
            "image_url": texts | st.just("https://x/y.png"),
            "image_bytes": st.binary(max_size=16),
            "text_raw": texts,
            "concepts": st.lists(
                _kwargs({"id": texts, "name": texts, "language": texts, "value": numbers}), max_size=2
            ),
            "metadata": st.dictionaries(texts, values, max_size=2),
            "geo_point": _kwargs({"longitude": numbers, "latitude": numbers, "geo_limit": numbers}),
            "input_types": st.lists(texts | st.sampled_from(["image", "text"]), max_size=2),
            "input_dataset_ids": st.lists(texts, max_size=2),
            "input_status_code": numbers,
        }
    ),
)


def test_clarifai_search_query_dicts_raise_only_typed_errors(
    emulator: Emulator, api_key: str, fuzz_cases: FuzzCounter
) -> None:
    search = Search(
        user_id=emulator.user_id,
        app_id="no-such-app",
        base_url=f"http://127.0.0.1:{emulator.port}",
        pat=api_key,
    )

    @FUZZ
    @given(st.lists(rank_dicts, max_size=2) | values, st.lists(rank_dicts, max_size=2) | values)
    def run(ranks: Any, filters: Any) -> None:
        fuzz_cases()
        hits = typed_only(search.query, ranks=ranks, filters=filters)
        if hits is not None:
            typed_only(lambda: next(iter(hits), None))

    run()


# --- Decthings -----------------------------------------------------------------------------------

TENSOR_TYPES = list(get_args(DecthingsTensorType))


def test_decthings_tensor_constructor_raises_only_typed_errors(fuzz_cases: FuzzCounter) -> None:
    @FUZZ
    @given(
        st.one_of(st.lists(values, max_size=6), values, st.just(np.array([1.5, np.nan]))),
        st.sampled_from(TENSOR_TYPES) | texts,
        st.one_of(st.none(), st.lists(numbers, max_size=3), values),
    )
    def run(data: Any, data_type: Any, shape: Any) -> None:
        fuzz_cases()
        tensor = typed_only(DecthingsTensor, data, data_type, shape)
        if tensor is not None:
            DecthingsTensor.deserialize(tensor.serialize())

    run()


def test_decthings_tensor_deserialize_raises_only_typed_errors(fuzz_cases: FuzzCounter) -> None:
    valid = DecthingsTensor([1.0, 2.0], "f32", [2]).serialize()

    @FUZZ
    @given(
        st.one_of(
            st.binary(max_size=64), st.binary(max_size=8).map(lambda b: valid[: len(b) % len(valid)] + b)
        )
    )
    def run(raw: bytes) -> None:
        fuzz_cases()
        typed_only(DecthingsTensor.deserialize, raw)

    run()


def test_time_ranges_at_the_calendar_edges_are_fine(fuzz_cases: FuzzCounter) -> None:
    """Sanity of the strategies: extreme but valid datetimes build a query without error."""
    start = datetime(1, 1, 2, tzinfo=timezone.utc)
    query = ListJobsQuery(created_time_range=TimeRange(start, start + timedelta(days=1)))
    fuzz_cases()
    assert query.to_proto().created_time_range.start.seconds < 0
