"""Tests for the Clavata emulator's policy engine."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

from modelwire._gen.clavata.shared.v1 import public_pb2
from modelwire.emulator.clavata.policy import (
    Policy,
    PolicyBook,
    PolicyError,
    Section,
    UnknownPolicyError,
    content_hash,
    evaluate,
    fnv1a128,
)

TRUE = public_pb2.OUTCOME_TRUE
FALSE = public_pb2.OUTCOME_FALSE

DEMO = r"""
policies:
  - id: demo-policy
    name: Demo
    threshold: 0.5
    sections:
      - label: Violence
        message: Threats or glorification of violence
        any: ["kill", "attack"]
        regex: ['\bshoot(ing)?\b']
        unless: ["video game"]
      - label: Weapons
        message: Weapons talk
        any: ["sword"]
        weight: 0.6
blocklist: ["0123456789ABCDEF0123456789abcdef"]
"""


@pytest.fixture
def demo() -> Policy:
    return PolicyBook.from_yaml(DEMO, source="demo.yaml").get("demo-policy")


def text(value: str, **kwargs: object) -> public_pb2.ContentData:
    return public_pb2.ContentData(text=value, **kwargs)  # type: ignore[arg-type]


def section(
    report: public_pb2.PolicyEvaluationReport, name: str
) -> public_pb2.PolicyEvaluationReport.SectionEvaluationReport:
    (found,) = [s for s in report.section_evaluation_reports if s.name == name]
    return found


def violence_score(policy: Policy, value: str) -> float:
    return section(evaluate(policy, text(value)), "Violence").review_result.score


# -- matching ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["skill", "killing", "overkill", "kill_switch", "attacker", "akill"])
def test_phrases_match_whole_words_only(demo: Policy, value: str) -> None:
    assert violence_score(demo, value) == 0.0


@pytest.mark.parametrize("value", ["kill", "KILL it", "Kill.", "(kill)", "don't kill-joy", "they kill"])
def test_phrases_are_case_insensitive_on_word_boundaries(demo: Policy, value: str) -> None:
    assert violence_score(demo, value) == pytest.approx(0.8)


def test_multi_word_phrases_match_across_any_whitespace() -> None:
    policy = Section(label="x", any=("free  money",))  # the definition's spacing does not matter either
    book = PolicyBook([Policy(id="p", name="p", threshold=0.5, sections=(policy,))])
    for value in ("free money", "FREE\n\t money!", "get free\u00a0money"):
        assert evaluate(book.get("p"), text(value)).review_result.outcome == TRUE, value
    for value in ("freemoney", "free moneys", "carefree money"):
        assert evaluate(book.get("p"), text(value)).review_result.outcome == FALSE, value


def test_phrases_with_non_word_edges() -> None:
    policy = Policy(
        id="p", name="p", threshold=0.5, sections=(Section(label="x", any=("c++", "#tag", "50%")),)
    )
    report = evaluate(policy, text("I write c++ and use #tag for 50% of posts"))
    messages = [a.message for a in section(report, "x").assertion_evaluation_reports]
    assert messages == ['matched "c++"', 'matched "#tag"', 'matched "50%"']
    # the word-character ends still need a boundary
    assert evaluate(policy, text("abc++ #tags 150%")).review_result.score == 0.0


def test_regex_matches_and_counts_distinct_texts(demo: Policy) -> None:
    assert violence_score(demo, "shoot") == pytest.approx(0.8)
    # the same text (in any case) is one hit; a different matched text is another
    assert violence_score(demo, "shoot Shoot SHOOT") == pytest.approx(0.8)
    assert violence_score(demo, "shoot, then shooting") == pytest.approx(1 - 0.2**2)
    assert violence_score(demo, "shoots") == 0.0  # the regex's own \b is respected


def test_score_grows_with_distinct_hits(demo: Policy) -> None:
    assert violence_score(demo, "kill kill kill") == pytest.approx(0.8)  # one distinct phrase
    assert violence_score(demo, "kill and attack") == pytest.approx(1 - 0.2**2)
    assert violence_score(demo, "kill, attack, shooting") == pytest.approx(1 - 0.2**3)


def test_assertion_reports_describe_each_hit(demo: Policy) -> None:
    report = evaluate(demo, text("attack while shooting"))
    assertions = section(report, "Violence").assertion_evaluation_reports
    assert [a.message for a in assertions] == [
        'matched "attack"',
        r'matched regex "\\bshoot(ing)?\\b": "shooting"',
    ]
    assert [a.score for a in assertions] == pytest.approx([0.8, 0.8])


# -- outcomes, thresholds and exceptions ------------------------------------------------------------


def test_report_shape(demo: Policy) -> None:
    content = text("I will attack with a sword", metadata={"request": "42", "user": "u1"})
    report = evaluate(demo, content)
    assert report.policy_id == "demo-policy"
    assert report.policy_key == "Demo"
    assert report.policy_version_id == demo.version_id
    assert [s.name for s in report.section_evaluation_reports] == ["Violence", "Weapons"]
    assert [s.message for s in report.section_evaluation_reports] == [
        "Threats or glorification of violence",
        "Weapons talk",
    ]
    assert dict(report.content_metadata) == {"request": "42", "user": "u1"}
    assert report.content_hash == content_hash(content)
    assert report.threshold == 0.5
    assert report.review_result.outcome == TRUE
    assert report.review_result.score == pytest.approx(0.8)
    assert dict(report.label_matches) == {"Violence": pytest.approx(0.8), "Weapons": pytest.approx(0.6)}
    assert report.token_usage.input_tokens == 6
    assert report.token_usage.billed_tokens == 6
    assert report.token_usage.multiplier == 1.0
    # deprecated fields stay unset, like the real service
    assert report.result == public_pb2.OUTCOME_UNSPECIFIED
    assert report.name == ""
    assert all(s.result == public_pb2.OUTCOME_UNSPECIFIED for s in report.section_evaluation_reports)
    assert not report.HasField("exception_evaluation_report")


def test_no_match_report(demo: Policy) -> None:
    report = evaluate(demo, text("a quiet afternoon"))
    assert report.review_result.outcome == FALSE
    assert report.review_result.score == 0.0
    assert dict(report.label_matches) == {}
    assert all(s.review_result.outcome == FALSE for s in report.section_evaluation_reports)


def test_label_matches_only_lists_true_sections(demo: Policy) -> None:
    report = evaluate(demo, text("a sword"), threshold=0.7)  # Weapons scores 0.6 < 0.7
    assert section(report, "Weapons").review_result.score == pytest.approx(0.6)
    assert section(report, "Weapons").review_result.outcome == FALSE
    assert dict(report.label_matches) == {}
    report = evaluate(demo, text("a sword and an attack"), threshold=0.7)
    assert dict(report.label_matches) == {"Violence": pytest.approx(0.8)}


def test_request_threshold_overrides_policy_threshold(demo: Policy) -> None:
    content = text("a sword")  # Weapons: 0.6
    by_policy = evaluate(demo, content)
    assert by_policy.threshold == 0.5
    assert by_policy.review_result.outcome == TRUE
    stricter = evaluate(demo, content, threshold=0.65)
    assert stricter.threshold == 0.65
    assert stricter.review_result.outcome == FALSE
    assert stricter.review_result.score == pytest.approx(0.6)  # the score does not depend on it
    assert evaluate(demo, content, threshold=0.6).review_result.outcome == TRUE  # score >= threshold


def test_threshold_zero_needs_some_evidence(demo: Policy) -> None:
    report = evaluate(demo, text("nothing here"), threshold=0.0)
    assert report.review_result.outcome == FALSE
    assert evaluate(demo, text("sword"), threshold=0.0).review_result.outcome == TRUE


@pytest.mark.parametrize("bad", [-0.1, 1.01, float("nan")])
def test_request_threshold_out_of_range(demo: Policy, bad: float) -> None:
    with pytest.raises(ValueError, match=r"threshold must be in \[0, 1\]"):
        evaluate(demo, text("kill"), threshold=bad)


def test_unless_makes_an_exception(demo: Policy) -> None:
    report = evaluate(demo, text("We kill dragons in the Video  Game and attack castles"))
    violence = section(report, "Violence")
    assert violence.review_result.outcome == FALSE
    assert violence.review_result.score == pytest.approx(1 - 0.2**2)  # still reported
    exception = violence.exception_evaluation_report
    assert violence.HasField("exception_evaluation_report")
    assert exception.review_result.outcome == TRUE
    assert [a.message for a in exception.assertion_evaluation_reports] == ['matched "video game"']
    assert report.review_result.outcome == FALSE
    assert report.review_result.score == 0.0  # excepted sections do not count toward the policy score
    assert dict(report.label_matches) == {}


def test_exception_only_affects_its_section(demo: Policy) -> None:
    report = evaluate(demo, text("kill with a sword in a video game"))
    assert section(report, "Violence").review_result.outcome == FALSE
    assert section(report, "Weapons").review_result.outcome == TRUE
    assert not section(report, "Weapons").HasField("exception_evaluation_report")
    assert report.review_result.outcome == TRUE
    assert report.review_result.score == pytest.approx(0.6)
    assert dict(report.label_matches) == {"Weapons": pytest.approx(0.6)}


def test_no_exception_report_without_unless_match(demo: Policy) -> None:
    report = evaluate(demo, text("kill"))
    assert not section(report, "Violence").HasField("exception_evaluation_report")


def test_title_is_evaluated_separately_from_text(demo: Policy) -> None:
    report = evaluate(demo, text("nothing", title="Attack!"))
    assert section(report, "Violence").review_result.score == pytest.approx(0.8)
    assert report.token_usage.input_tokens == 2
    # a phrase never spans the title and the text
    report = evaluate(demo, text("game: kill", title="video"))
    assert section(report, "Violence").review_result.outcome == TRUE


def test_image_content_only_matches_hashes_and_title() -> None:
    image = b"\x89PNG\r\n\x1a\n not really, but hashed all the same"
    content = public_pb2.ContentData(image=image)
    digest = content_hash(content)  # listed in upper case below: hashes compare case-insensitively
    policy = Policy(
        id="p",
        name="p",
        threshold=0.5,
        sections=(
            Section(label="Known", any=("png",), content_hashes=(digest.upper(),)),
            Section(label="Words", any=("really", "sunset")),
        ),
    )
    report = evaluate(policy, content)
    assert section(report, "Known").review_result.score == 1.0
    assert [a.message for a in section(report, "Known").assertion_evaluation_reports] == [
        f'matched content hash "{digest}"'
    ]
    assert section(report, "Words").review_result.score == 0.0  # the bytes are not text
    assert dict(report.label_matches) == {"Known": 1.0}
    assert report.token_usage.input_tokens == 0
    titled = public_pb2.ContentData(image_url="http://127.0.0.1/x.png", title="sunset")
    assert section(evaluate(policy, titled), "Words").review_result.outcome == TRUE


# -- versions ----------------------------------------------------------------------------------------


def test_version_id_is_stable_for_the_same_definition(demo: Policy) -> None:
    again = PolicyBook.from_yaml(DEMO).get("demo-policy")
    assert again.version_id == demo.version_id
    # explicit defaults and different spacing are the same definition
    reformatted = DEMO.replace('any: ["sword"]', 'any: ["  sword "]\n        unless: []')
    reformatted = reformatted.replace("label: Violence", "label: Violence\n        weight: 0.8")
    assert PolicyBook.from_yaml(reformatted).get("demo-policy").version_id == demo.version_id


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("threshold: 0.5", "threshold: 0.55"),
        ("name: Demo", "name: Demo 2"),
        ('["kill", "attack"]', '["kill", "attack", "punch"]'),
        ("weight: 0.6", "weight: 0.61"),
        ('unless: ["video game"]', 'unless: ["video games"]'),
        ("message: Weapons talk", "message: Weapons"),
        (r"shoot(ing)?", r"shoot(ing|s)?"),
    ],
)
def test_version_id_changes_when_the_policy_changes(demo: Policy, old: str, new: str) -> None:
    assert old in DEMO
    edited = PolicyBook.from_yaml(DEMO.replace(old, new)).get("demo-policy")
    assert edited.version_id != demo.version_id


def test_version_id_is_a_uuid(demo: Policy) -> None:
    import uuid

    assert uuid.UUID(demo.version_id).version == 5


# -- loading and validation -------------------------------------------------------------------------


def test_loaded_fields(demo: Policy) -> None:
    book = PolicyBook.from_yaml(DEMO)
    assert book.ids == ("demo-policy",)
    assert book.blocklist == frozenset({"0123456789abcdef0123456789abcdef"})
    assert demo.name == "Demo"
    assert demo.threshold == 0.5
    violence, weapons = demo.sections
    assert violence.any == ("kill", "attack")
    assert violence.regex == (r"\bshoot(ing)?\b",)
    assert violence.unless == ("video game",)
    assert violence.weight == 0.8
    assert weapons.weight == 0.6
    assert "demo-policy" in book
    assert len(book) == 1


def test_optional_policy_fields_have_defaults() -> None:
    book = PolicyBook.from_yaml("policies:\n  - id: p\n    sections:\n      - label: L\n        any: [x]\n")
    policy = book.get("p")
    assert policy.name == "p"
    assert policy.threshold == 0.5
    assert policy.sections[0].message == ""
    assert book.blocklist == frozenset()


def policy_yaml(body: str) -> str:
    return textwrap.dedent(body).strip() + "\n"


ERROR_CASES = [
    pytest.param(
        "policies:\n  - name: x\n    sections: [{label: a, any: [x]}]\n",
        ["policies[0]", "missing required key 'id'"],
        id="missing-id",
    ),
    pytest.param(
        "policies:\n  - id: '  '\n    sections: [{label: a, any: [x]}]\n",
        ["policies[0]", "'id' is empty"],
        id="empty-id",
    ),
    pytest.param(
        "policies:\n  - id: 7\n    sections: [{label: a, any: [x]}]\n",
        ["policies[0]", "'id' must be a string", "int"],
        id="id-type",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{label: a, any: [x]}]\n"
        "  - id: q\n    sections: [{label: a, any: [x]}]\n"
        "  - id: p\n    sections: [{label: a, any: [x]}]\n",
        ["policies[2]", "duplicate policy id 'p'", "policies[0]"],
        id="duplicate-id",
    ),
    pytest.param(
        "policies:\n  - id: p\n    threshold: 1.5\n    sections: [{label: a, any: [x]}]\n",
        ["policy 'p'", "'threshold' must be in [0, 1]", "1.5"],
        id="threshold-high",
    ),
    pytest.param(
        "policies:\n  - id: p\n    threshold: -0.1\n    sections: [{label: a, any: [x]}]\n",
        ["policy 'p'", "'threshold' must be in [0, 1]"],
        id="threshold-negative",
    ),
    pytest.param(
        "policies:\n  - id: p\n    threshold: high\n    sections: [{label: a, any: [x]}]\n",
        ["policy 'p'", "'threshold' must be a number", "'high'"],
        id="threshold-string",
    ),
    pytest.param(
        "policies:\n  - id: p\n    threshold: yes\n    sections: [{label: a, any: [x]}]\n",
        ["policy 'p'", "'threshold' must be a number", "bool"],
        id="threshold-bool",
    ),
    pytest.param(
        "policies:\n  - id: p\n    threshold: .nan\n    sections: [{label: a, any: [x]}]\n",
        ["policy 'p'", "'threshold' must be a finite number"],
        id="threshold-nan",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections:\n      - label: a\n        any: [x]\n"
        "      - label: Guns\n        regex: ['\\bshoot(']\n",
        ["policy 'p'", "sections[1]", "'Guns'", "invalid regular expression", "'\\\\bshoot('"],
        id="bad-regex",
    ),
    pytest.param(
        "policies:\n  - id: p\n    treshold: 0.5\n    sections: [{label: a, any: [x]}]\n",
        ["policy 'p'", "unknown key 'treshold'", "did you mean 'threshold'"],
        id="unknown-policy-key",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{label: a, any: [x], unles: [y]}]\n",
        ["policy 'p'", "sections[0]", "unknown key 'unles'", "did you mean 'unless'"],
        id="unknown-section-key",
    ),
    pytest.param(
        "policy:\n  - id: p\n",
        ["unknown key 'policy'", "did you mean 'policies'"],
        id="unknown-top-key",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: []\n",
        ["policy 'p'", "'sections' is empty"],
        id="empty-sections",
    ),
    pytest.param(
        "policies:\n  - id: p\n    name: P\n",
        ["policy 'p'", "missing required key 'sections'"],
        id="missing-sections",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: {label: a}\n",
        ["policy 'p'", "'sections' must be a list", "dict"],
        id="sections-type",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [just-a-string]\n",
        ["policy 'p'", "sections[0]", "a section must be a mapping", "str"],
        id="section-type",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{any: [x]}]\n",
        ["policy 'p'", "sections[0]", "missing required key 'label'"],
        id="missing-label",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{label: a, any: kill}]\n",
        ["policy 'p'", "sections[0]", "'any' must be a list of strings", "str"],
        id="any-not-list",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{label: a, any: [kill, 3]}]\n",
        ["policy 'p'", "sections[0]", "any[1] must be a string", "int"],
        id="any-item-type",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{label: a, any: [kill, '   ']}]\n",
        ["policy 'p'", "sections[0]", "any[1]: phrase is empty"],
        id="empty-phrase",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{label: a, message: [x], any: [x]}]\n",
        ["policy 'p'", "sections[0]", "'message' must be a string", "list"],
        id="message-type",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{label: a, any: [x], weight: 0}]\n",
        ["policy 'p'", "sections[0]", "'weight' must be in (0, 1]"],
        id="weight-zero",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{label: a, any: [x], weight: 1.2}]\n",
        ["policy 'p'", "sections[0]", "'weight' must be in (0, 1]"],
        id="weight-high",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{label: a, unless: [x]}]\n",
        ["policy 'p'", "sections[0]", "section has no rules"],
        id="no-rules",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{label: a, any: [x]}, {label: a, any: [y]}]\n",
        ["policy 'p'", "sections[1]: duplicate label 'a'", "sections[0]"],
        id="duplicate-label",
    ),
    pytest.param(
        "policies:\n  - id: p\n    sections: [{label: a, content_hashes: [md5::abc]}]\n",
        ["policy 'p'", "sections[0]", "content_hashes[0]", "'md5::abc' is not a content hash"],
        id="bad-content-hash",
    ),
    pytest.param(
        "policies: []\nblocklist: [not-a-digest]\n",
        ["blocklist[0]", "'not-a-digest' is not an MD5 hex digest"],
        id="bad-blocklist-entry",
    ),
    pytest.param(
        "policies: []\nblocklist: abc\n",
        ["'blocklist' must be a list of strings"],
        id="blocklist-type",
    ),
    pytest.param("policies: {id: p}\n", ["'policies' must be a list", "dict"], id="policies-type"),
    pytest.param("- id: p\n", ["the top level must be a mapping", "list"], id="top-level-list"),
    pytest.param("", ["the document is empty"], id="empty-document"),
    pytest.param("policies: [\n  - id: p\n", ["invalid YAML"], id="yaml-syntax"),
]


@pytest.mark.parametrize(("document", "expected"), ERROR_CASES)
def test_policy_errors_say_where_and_what(document: str, expected: list[str]) -> None:
    with pytest.raises(PolicyError) as caught:
        PolicyBook.from_yaml(document, source="team-policies.yaml")
    message = str(caught.value)
    assert message.startswith("team-policies.yaml: "), message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert isinstance(caught.value, ValueError)


def test_policy_error_from_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("policies:\n  - id: p\n    threshold: 2\n    sections: [{label: a, any: [x]}]\n")
    with pytest.raises(PolicyError, match=r"bad\.yaml: policy 'p'.*threshold"):
        PolicyBook.from_file(path)
    with pytest.raises(PolicyError, match=r"missing\.yaml: cannot read policy file"):
        PolicyBook.from_file(tmp_path / "missing.yaml")


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "policies.yaml"
    path.write_text(DEMO, encoding="utf-8")
    assert (
        PolicyBook.from_file(path).get("demo-policy").version_id
        == PolicyBook.from_yaml(DEMO).get("demo-policy").version_id
    )
    assert PolicyBook.from_file(os.fspath(path)).ids == ("demo-policy",)


def test_direct_construction_validates() -> None:
    with pytest.raises(PolicyError, match="invalid regular expression '\\('"):
        Section(label="a", regex=("(",))
    with pytest.raises(PolicyError, match="'threshold' must be in"):
        Policy(id="p", name="p", threshold=2.0, sections=(Section(label="a", any=("x",)),))
    policy = Policy(id="p", name="p", threshold=0.5, sections=(Section(label="a", any=("x",)),))
    with pytest.raises(PolicyError, match="duplicate policy id 'p'"):
        PolicyBook([policy, policy])


# -- the book ----------------------------------------------------------------------------------------


def test_get_unknown_policy_lists_known_ids() -> None:
    book = PolicyBook.from_yaml(DEMO)
    with pytest.raises(KeyError) as caught:
        book.get("nope")
    assert isinstance(caught.value, UnknownPolicyError)
    assert str(caught.value) == "unknown policy id 'nope'; known policy ids: 'demo-policy'"


def test_merged_overrides_policies_and_unions_blocklists() -> None:
    base = PolicyBook.from_yaml(DEMO)
    extra = PolicyBook.from_yaml(
        "policies:\n"
        "  - id: demo-policy\n    name: Replaced\n    sections: [{label: a, any: [x]}]\n"
        "  - id: other\n    sections: [{label: a, any: [x]}]\n"
        "blocklist: [ffffffffffffffffffffffffffffffff]\n"
    )
    merged = base.merged(extra)
    assert merged.ids == ("demo-policy", "other")
    assert merged.get("demo-policy").name == "Replaced"
    assert merged.blocklist == base.blocklist | {"ffffffffffffffffffffffffffffffff"}
    assert base.get("demo-policy").name == "Demo"  # the originals are untouched


def test_default_policies_load_and_evaluate() -> None:
    book = PolicyBook.default()
    assert {"demo-policy", "spam-policy", "harassment-policy"} <= set(book.ids)
    for policy in book:
        assert len(policy.sections) >= 2
        report = evaluate(policy, text("hello there, lovely weather"))
        assert report.review_result.outcome == FALSE, policy.id
    demo = book.get("demo-policy")
    assert evaluate(demo, text("they planned an attack")).review_result.outcome == TRUE
    spam = book.get("spam-policy")
    assert evaluate(spam, text("BUY NOW!!! limited offer, click here")).review_result.outcome == TRUE
    harassment = book.get("harassment-policy")
    assert evaluate(harassment, text("you absolute nitwit")).review_result.outcome == TRUE
    assert evaluate(harassment, text("you nitwit, just kidding")).review_result.outcome == FALSE
    assert PolicyBook.default() is book  # loaded once


# -- hashing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "6c62272e07bb014262b821756295c58d"),
        (b"a", "d228cb696f1a8caf78912b704e4a8964"),
        (b"foobar", "343e1662793c64bf6f0d3597ba446f18"),
    ],
)
def test_fnv1a128_known_vectors(data: bytes, expected: str) -> None:
    assert fnv1a128(data) == expected


def test_fnv1a128_is_fast_enough_for_images() -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    started = time.perf_counter()
    fnv1a128(data)
    # About 0.1 s on a laptop; the bound only catches an accidentally quadratic implementation.
    assert time.perf_counter() - started < 5.0


def test_content_hash_covers_every_kind_of_content() -> None:
    assert content_hash(text("héllo")) == "fnv1a128::" + fnv1a128("héllo".encode())
    assert content_hash(public_pb2.ContentData(image=b"\x00\x01")) == "fnv1a128::" + fnv1a128(b"\x00\x01")
    url = "http://127.0.0.1/cat.png"
    assert content_hash(public_pb2.ContentData(image_url=url)) == "fnv1a128::" + fnv1a128(url.encode())
    video = public_pb2.ContentData(video=public_pb2.VideoContent(url=url, num_frames=3))
    assert content_hash(video) == "fnv1a128::" + fnv1a128(url.encode())
    assert content_hash(public_pb2.ContentData(audio_url=url)) == "fnv1a128::" + fnv1a128(url.encode())
    # metadata and title do not change the hash
    assert content_hash(text("x", metadata={"a": "b"}, title="t")) == content_hash(text("x"))
