"""Deterministic policy engine for the offline Clavata emulator.

The real service evaluates content with a model against policies written in its own DSL. The
emulator replaces that with keyword rules so tests get the same answer every time, offline.

Policy files are YAML::

    policies:
      - id: demo-policy            # required; used as policy_id
        name: Demo                 # optional (default: the id); reported as policy_key
        threshold: 0.5             # optional, in [0, 1] (default 0.5)
        sections:                  # required, non-empty; one report section each, in order
          - label: Violence        # required, unique within the policy
            message: Threats or glorification of violence   # optional
            any: ["kill", "attack"]      # phrases: case-insensitive, whole words, flexible whitespace
            regex: ['\\bshoot(ing)?\\b'] # Python regexes, compiled case-insensitive
            unless: ["video game"]       # exception phrases (same matching as `any`)
            weight: 0.8                  # optional, in (0, 1] (default 0.8)
            content_hashes: ["fnv1a128::..."]  # optional: content that matches outright
    blocklist: ["<hex md5>"]       # optional: stand-in for the known-CSAM hash database

A section needs at least one of ``any``, ``regex`` or ``content_hashes``.

Scoring, per section:

* ``hits`` = number of distinct ``any`` phrases found + number of distinct texts matched by the
  section's regexes (compared case-insensitively, empty matches ignored);
* ``score = 1 - (1 - weight) ** hits`` (0.0 with no hits), so more evidence means a higher score;
* if the content's hash is listed in ``content_hashes`` the score is 1.0 (this is how image and
  URL content, which has no text, can match);
* if any ``unless`` phrase is found the section is *excepted*: its score is still reported, but
  its outcome is FALSE and an exception report (outcome TRUE) is attached;
* the section outcome is TRUE iff it is not excepted, its score is > 0 and its score >= the
  threshold (the request's threshold if given, else the policy's). The ``> 0`` guard keeps a
  threshold of 0 from matching every section without any evidence.

The policy outcome is TRUE iff any section is TRUE; the policy score is the maximum score of the
non-excepted sections (0.0 if there are none). ``label_matches`` maps each TRUE section's label to
its score.

The text evaluated is ``content.text`` (text content only) plus ``content.title`` when set, each
matched separately so a phrase never spans the two. Image, video and URL content therefore match
only through ``content_hashes`` and the title.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import json
import math
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import yaml

from modelwire._gen.clavata.shared.v1 import public_pb2

__all__ = [
    "DEFAULT_THRESHOLD",
    "DEFAULT_WEIGHT",
    "Policy",
    "PolicyBook",
    "PolicyError",
    "Section",
    "UnknownPolicyError",
    "content_hash",
    "evaluate",
    "fnv1a128",
]

DEFAULT_THRESHOLD = 0.5
DEFAULT_WEIGHT = 0.8

_Report = public_pb2.PolicyEvaluationReport

# Policy versions are uuid5s in a namespace of our own, so they never collide with other uuid5 users.
_VERSION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "policy-version.clavata.emulator.modelwire.invalid")
_CONTENT_HASH_RE = re.compile(r"fnv1a128::[0-9a-f]{32}")
_MD5_RE = re.compile(r"[0-9a-f]{32}")
_WORD_CHAR_RE = re.compile(r"\w")
_INT32_MAX = 2**31 - 1


class PolicyError(ValueError):
    """A policy file or definition is invalid; the message says where and why."""


class UnknownPolicyError(KeyError):
    """No policy has the requested id."""

    def __init__(self, policy_id: str, known: Sequence[str]) -> None:
        super().__init__(policy_id)
        self.policy_id = policy_id
        self.known = tuple(known)

    def __str__(self) -> str:
        # KeyError's own __str__ would repr() the argument; give a readable sentence instead.
        listed = ", ".join(repr(i) for i in self.known) if self.known else "none"
        return f"unknown policy id {self.policy_id!r}; known policy ids: {listed}"


# --------------------------------------------------------------------------------------------------
# FNV-1a 128 and content hashes

_FNV128_OFFSET = 0x6C62272E07BB014262B821756295C58D
_FNV128_PRIME = 0x0000000001000000000000000000013B
_MASK128 = (1 << 128) - 1


def fnv1a128(data: bytes) -> str:
    """FNV-1a 128-bit hash of ``data`` as 32 lowercase hex characters.

    Pure Python, roughly 10 MB/s: FNV is strictly sequential, so there is no way to vectorise it
    without a compiled extension. Emulator payloads are small, so this is plenty.
    """
    h = _FNV128_OFFSET
    prime = _FNV128_PRIME
    mask = _MASK128
    for byte in data:
        h = ((h ^ byte) * prime) & mask
    return f"{h:032x}"


def _content_bytes(content: public_pb2.ContentData) -> bytes:
    kind = content.WhichOneof("content")
    if kind == "text":
        return content.text.encode("utf-8")
    if kind == "image":
        return content.image
    if kind == "image_url":
        return content.image_url.encode("utf-8")
    if kind == "video":
        return content.video.url.encode("utf-8")
    if kind == "audio_url":
        return content.audio_url.encode("utf-8")
    return b""  # nothing set: the gateway rejects this before it gets here


def content_hash(content: public_pb2.ContentData) -> str:
    """The report's content hash: ``"fnv1a128::"`` + FNV-1a 128 of the content.

    Hashes the text's UTF-8 bytes, the image bytes, or the UTF-8 of the image, video or audio URL.
    """
    return "fnv1a128::" + fnv1a128(_content_bytes(content))


# --------------------------------------------------------------------------------------------------
# Policy model


def _normalise_phrase(phrase: str) -> str:
    return " ".join(phrase.split())


def _phrase_body(phrase: str) -> str:
    """A phrase's words, any run of whitespace between them (no word-boundary guards)."""
    return r"\s+".join(re.escape(word) for word in phrase.split())


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Case-insensitive whole-word pattern for a phrase, any run of whitespace between its words."""
    words = phrase.split()
    body = _phrase_body(phrase)
    # A plain \b next to a non-word character would demand a word character beside it ("c++ is"
    # has no boundary after "+"), so only guard the ends that are word characters.
    start = r"(?<!\w)" if _WORD_CHAR_RE.match(words[0][0]) else ""
    end = r"(?!\w)" if _WORD_CHAR_RE.match(words[-1][-1]) else ""
    return re.compile(start + body + end, re.IGNORECASE)


def _phrase_tuple(values: Iterable[str], key: str) -> tuple[str, ...]:
    out: list[str] = []
    seen: set[str] = set()
    for index, value in enumerate(values):
        phrase = _normalise_phrase(value)
        if not phrase:
            raise PolicyError(f"{key}[{index}]: phrase is empty")
        folded = phrase.casefold()
        if folded not in seen:  # duplicates would only inflate the hit count
            seen.add(folded)
            out.append(phrase)
    return tuple(out)


@dataclass(frozen=True)
class Section:
    """One SECTION/LABEL of a policy. Phrases are normalised and patterns compiled on creation."""

    label: str
    message: str = ""
    any: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    weight: float = DEFAULT_WEIGHT
    content_hashes: tuple[str, ...] = ()
    any_patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    regex_patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    unless_patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    # The report of a section without evidence (most sections of most content): built once.
    quiet_report: _Report.SectionEvaluationReport = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.label.strip():
            raise PolicyError("'label' is empty")
        if not (0.0 < self.weight <= 1.0):  # also rejects NaN
            raise PolicyError(f"'weight' must be in (0, 1], got {self.weight!r}")
        any_phrases = _phrase_tuple(self.any, "any")
        unless_phrases = _phrase_tuple(self.unless, "unless")
        regex_patterns: list[re.Pattern[str]] = []
        for index, text in enumerate(self.regex):
            try:
                regex_patterns.append(re.compile(text, re.IGNORECASE))
            except re.error as exc:
                raise PolicyError(f"regex[{index}]: invalid regular expression {text!r}: {exc}") from None
        hashes: list[str] = []
        for index, value in enumerate(self.content_hashes):
            normalised = value.strip().lower()
            if not _CONTENT_HASH_RE.fullmatch(normalised):
                raise PolicyError(
                    f"content_hashes[{index}]: {value!r} is not a content hash "
                    "('fnv1a128::' followed by 32 hex characters, as content_hash() returns)"
                )
            if normalised not in hashes:
                hashes.append(normalised)
        if not (any_phrases or self.regex or hashes):
            raise PolicyError("section has no rules: give at least one of 'any', 'regex' or 'content_hashes'")
        set_ = object.__setattr__  # frozen dataclass: normalise in place once, at creation
        set_(self, "any", any_phrases)
        set_(self, "regex", tuple(self.regex))
        set_(self, "unless", unless_phrases)
        set_(self, "weight", float(self.weight))
        set_(self, "content_hashes", tuple(hashes))
        set_(self, "any_patterns", tuple(_phrase_pattern(p) for p in any_phrases))
        set_(self, "regex_patterns", tuple(regex_patterns))
        set_(self, "unless_patterns", tuple(_phrase_pattern(p) for p in unless_phrases))
        set_(self, "quiet_report", _section_report(self, [], 0.0, False))

    def canonical(self) -> dict[str, object]:
        """The section's definition as plain data (defaults filled in), for versioning."""
        return {
            "label": self.label,
            "message": self.message,
            "any": list(self.any),
            "regex": list(self.regex),
            "unless": list(self.unless),
            "weight": self.weight,
            "content_hashes": list(self.content_hashes),
        }


class _PhraseFilter:
    """Whether any of some phrases could match a text: False only when none can (on True, their
    exact patterns decide). Phrases are normalised (single spaces), as `Section` keeps them."""

    def __init__(self, phrases: Sequence[str]) -> None:
        # Their bodies without the word-boundary guards: a pattern that matches wherever any could.
        bodies = "|".join(_phrase_body(p) for p in phrases)
        self._pattern = re.compile(bodies, re.IGNORECASE) if phrases else None
        # For ASCII text and phrases, IGNORECASE is plain lowercasing and `\s+` any whitespace run,
        # so substring tests on the text lowercased with its runs made single spaces find every
        # match, at a third of the regex's cost.
        self._needles = tuple(p.lower() for p in phrases) if all(p.isascii() for p in phrases) else None

    def may_match(self, text: str) -> bool:
        if self._pattern is None:
            return False
        if self._needles is not None and text.isascii():
            flat = " ".join(text.lower().split())
            return any(map(flat.__contains__, self._needles))
        return self._pattern.search(text) is not None


@dataclass(frozen=True)
class Policy:
    """A policy: ordered sections plus a default threshold.

    ``version_id`` is a uuid5 of the canonical definition, so any edit yields a new version while
    reloading the same definition (even reformatted) keeps it.
    """

    id: str
    name: str
    threshold: float
    sections: tuple[Section, ...]
    version_id: str = field(init=False)
    # Clears most content of every section's `any` and `unless` phrases in one pass.
    phrase_filter: _PhraseFilter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise PolicyError("'id' is empty")
        if not (0.0 <= self.threshold <= 1.0):  # also rejects NaN
            raise PolicyError(f"'threshold' must be in [0, 1], got {self.threshold!r}")
        sections = tuple(self.sections)
        if not sections:
            raise PolicyError("'sections' is empty: a policy needs at least one section")
        labels: dict[str, int] = {}
        for index, section in enumerate(sections):
            if section.label in labels:
                raise PolicyError(
                    f"sections[{index}]: duplicate label {section.label!r} "
                    f"(also sections[{labels[section.label]}])"
                )
            labels[section.label] = index
        object.__setattr__(self, "threshold", float(self.threshold))
        object.__setattr__(self, "sections", sections)
        canonical = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        object.__setattr__(self, "version_id", str(uuid.uuid5(_VERSION_NAMESPACE, canonical)))
        phrases = [p for s in sections for p in (*s.any, *s.unless)]
        object.__setattr__(self, "phrase_filter", _PhraseFilter(phrases))

    def canonical(self) -> dict[str, object]:
        """The policy's definition as plain data (defaults filled in), for versioning."""
        return {
            "id": self.id,
            "name": self.name,
            "threshold": self.threshold,
            "sections": [s.canonical() for s in self.sections],
        }


# --------------------------------------------------------------------------------------------------
# Loading and validation

_TOP_KEYS = ("policies", "blocklist")
_POLICY_KEYS = ("id", "name", "threshold", "sections")
_SECTION_KEYS = ("label", "message", "any", "regex", "unless", "weight", "content_hashes")


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


class _Where:
    """Where in a policy file we are, so every error names the file, policy and section."""

    def __init__(self, source: str, parts: tuple[str, ...] = ()) -> None:
        self.source = source
        self.parts = parts

    def at(self, part: str) -> _Where:
        return _Where(self.source, (*self.parts, part))

    def fail(self, problem: str) -> PolicyError:
        where = ", ".join(self.parts)
        return PolicyError(f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}")


def _check_keys(data: Mapping[object, object], allowed: Sequence[str], where: _Where) -> None:
    for key in data:
        if key not in allowed:
            hint = ""
            if isinstance(key, str):
                close = difflib.get_close_matches(key, allowed, n=1)
                if close:
                    hint = f"; did you mean {close[0]!r}?"
            raise where.fail(f"unknown key {key!r} (allowed: {', '.join(allowed)}){hint}")


def _mapping(value: object, what: str, where: _Where) -> Mapping[object, object]:
    if not isinstance(value, dict):
        raise where.fail(f"{what} must be a mapping, got {_type_name(value)}")
    return value


def _string(value: object, key: str, where: _Where) -> str:
    if not isinstance(value, str):
        raise where.fail(f"{key!r} must be a string, got {_type_name(value)} {value!r}")
    return value


def _number(value: object, key: str, where: _Where) -> float:
    # bool is an int subclass, and YAML turns yes/no/true into bools: refuse them explicitly.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.fail(f"{key!r} must be a number, got {_type_name(value)} {value!r}")
    if not math.isfinite(value):
        raise where.fail(f"{key!r} must be a finite number, got {value!r}")
    return float(value)


def _string_list(value: object, key: str, where: _Where) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise where.fail(f"{key!r} must be a list of strings, got {_type_name(value)}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise where.fail(f"{key}[{index}] must be a string, got {_type_name(item)} {item!r}")
    return tuple(value)


def _parse_section(raw: object, where: _Where) -> Section:
    data = _mapping(raw, "a section", where)
    label = data.get("label")
    if isinstance(label, str) and label.strip():
        where = _Where(where.source, (*where.parts[:-1], f"{where.parts[-1]} (label {label!r})"))
    _check_keys(data, _SECTION_KEYS, where)
    if "label" not in data:
        raise where.fail("missing required key 'label'")
    label = _string(data["label"], "label", where)
    message = _string(data.get("message", ""), "message", where)
    weight = _number(data.get("weight", DEFAULT_WEIGHT), "weight", where)
    lists = {
        key: _string_list(data[key], key, where) if key in data else ()
        for key in ("any", "regex", "unless", "content_hashes")
    }
    try:
        return Section(
            label=label,
            message=message,
            any=lists["any"],
            regex=lists["regex"],
            unless=lists["unless"],
            weight=weight,
            content_hashes=lists["content_hashes"],
        )
    except PolicyError as exc:  # Section's own checks know the problem but not the place
        raise where.fail(str(exc)) from None


def _parse_policy(raw: object, where: _Where) -> Policy:
    data = _mapping(raw, "a policy", where)
    if "id" not in data:
        raise where.fail("missing required key 'id'")
    policy_id = _string(data["id"], "id", where)
    if not policy_id.strip():
        raise where.fail("'id' is empty")
    where = _Where(where.source, (f"policy {policy_id!r} ({where.parts[-1]})",))
    _check_keys(data, _POLICY_KEYS, where)
    name = _string(data.get("name", policy_id), "name", where)
    threshold = _number(data.get("threshold", DEFAULT_THRESHOLD), "threshold", where)
    if "sections" not in data:
        raise where.fail("missing required key 'sections'")
    raw_sections = data["sections"]
    if not isinstance(raw_sections, list):
        raise where.fail(f"'sections' must be a list, got {_type_name(raw_sections)}")
    sections = tuple(_parse_section(s, where.at(f"sections[{i}]")) for i, s in enumerate(raw_sections))
    try:
        return Policy(id=policy_id, name=name, threshold=threshold, sections=sections)
    except PolicyError as exc:
        raise where.fail(str(exc)) from None


def _normalise_blocklist(values: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for index, value in enumerate(values):
        digest = value.strip().lower()
        if not _MD5_RE.fullmatch(digest):
            raise PolicyError(f"blocklist[{index}]: {value!r} is not an MD5 hex digest (32 hex characters)")
        out.add(digest)
    return frozenset(out)


class PolicyBook:
    """An immutable set of policies by id, plus the blocklist of refused image MD5s."""

    def __init__(self, policies: Iterable[Policy] = (), blocklist: Iterable[str] = ()) -> None:
        self._policies: dict[str, Policy] = {}
        for policy in policies:
            if policy.id in self._policies:
                raise PolicyError(f"duplicate policy id {policy.id!r}")
            self._policies[policy.id] = policy
        self._blocklist = _normalise_blocklist(blocklist)

    @classmethod
    def from_yaml(cls, text: str, source: str = "<string>") -> PolicyBook:
        """Parse a policy document; ``source`` names it in error messages."""
        top = _Where(source)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise top.fail(f"invalid YAML: {exc}") from None
        if data is None:
            raise top.fail("the document is empty; expected a mapping with a 'policies' list")
        root = _mapping(data, "the top level", top)
        _check_keys(root, _TOP_KEYS, top)
        raw_policies = root.get("policies")
        if raw_policies is None:  # absent, or an empty `policies:`
            raw_policies = []
        if not isinstance(raw_policies, list):
            raise top.fail(f"'policies' must be a list, got {_type_name(raw_policies)}")
        policies: list[Policy] = []
        first_index: dict[str, int] = {}
        for index, raw in enumerate(raw_policies):
            policy = _parse_policy(raw, top.at(f"policies[{index}]"))
            if policy.id in first_index:
                raise top.fail(
                    f"policies[{index}]: duplicate policy id {policy.id!r} "
                    f"(also policies[{first_index[policy.id]}])"
                )
            first_index[policy.id] = index
            policies.append(policy)
        raw_blocklist = root.get("blocklist")
        blocklist = _string_list([] if raw_blocklist is None else raw_blocklist, "blocklist", top)
        try:
            return cls(policies, blocklist)
        except PolicyError as exc:
            raise top.fail(str(exc)) from None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> PolicyBook:
        """Load a policy file (UTF-8 YAML); unreadable files raise PolicyError too."""
        source = os.fspath(path)
        try:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"{source}: cannot read policy file: {exc}") from exc
        return cls.from_yaml(text, source=source)

    @classmethod
    def default(cls) -> PolicyBook:
        """The policies shipped with the emulator (``default_policies.yaml``)."""
        return _default_book()

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._policies)

    @property
    def policies(self) -> tuple[Policy, ...]:
        return tuple(self._policies.values())

    @property
    def blocklist(self) -> frozenset[str]:
        """Lowercase hex MD5s of images the prechecks refuse as known CSAM."""
        return self._blocklist

    def get(self, policy_id: str) -> Policy:
        """The policy with this id; raises UnknownPolicyError (a KeyError) listing the known ids."""
        try:
            return self._policies[policy_id]
        except KeyError:
            raise UnknownPolicyError(policy_id, self.ids) from None

    def merged(self, other: PolicyBook) -> PolicyBook:
        """A new book with ``other``'s policies replacing same-id ones, and both blocklists."""
        combined = dict(self._policies)
        combined.update(other._policies)
        return PolicyBook(combined.values(), self._blocklist | other._blocklist)

    def __contains__(self, policy_id: object) -> bool:
        return policy_id in self._policies

    def __iter__(self) -> Iterator[Policy]:
        return iter(self._policies.values())

    def __len__(self) -> int:
        return len(self._policies)

    def __repr__(self) -> str:
        return f"PolicyBook(ids={list(self._policies)!r}, blocklist={len(self._blocklist)} entries)"


@functools.lru_cache(maxsize=1)
def _default_book() -> PolicyBook:
    # Cached: the book is immutable and the file ships with the package.
    resource = importlib.resources.files(__package__ or "modelwire.emulator.clavata")
    text = resource.joinpath("default_policies.yaml").read_text(encoding="utf-8")
    return PolicyBook.from_yaml(text, source="modelwire/emulator/clavata/default_policies.yaml")


# --------------------------------------------------------------------------------------------------
# Evaluation


def _texts(content: public_pb2.ContentData) -> list[str]:
    texts: list[str] = []
    if content.WhichOneof("content") == "text":
        texts.append(content.text)
    if content.HasField("title"):
        texts.append(content.title)
    return texts


def _assertion(message: str, score: float) -> _Report.AssertionEvaluationReport:
    return _Report.AssertionEvaluationReport(message=message, score=score)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # double quotes with escapes, for messages


def _section_report(
    section: Section,
    assertions: list[_Report.AssertionEvaluationReport],
    score: float,
    matched: bool,
    exception_hits: Sequence[_Report.AssertionEvaluationReport] = (),
) -> _Report.SectionEvaluationReport:
    report = _Report.SectionEvaluationReport(
        name=section.label, message=section.message, assertion_evaluation_reports=assertions
    )
    if exception_hits:
        report.exception_evaluation_report.CopyFrom(
            _Report.ExceptionEvaluationReport(
                assertion_evaluation_reports=exception_hits,
                review_result=_Report.ReviewResult(outcome=public_pb2.OUTCOME_TRUE, score=1.0),
            )
        )
    report.review_result.CopyFrom(
        _Report.ReviewResult(
            outcome=public_pb2.OUTCOME_TRUE if matched else public_pb2.OUTCOME_FALSE, score=score
        )
    )
    return report


def _evaluate_section(
    section: Section, texts: Sequence[str], hash_value: str, threshold: float, phrases: bool
) -> tuple[_Report.SectionEvaluationReport, bool, float, bool]:
    """Returns (report, excepted, score, matched); `phrases` False: no `any` or `unless` phrase
    can match. The report may be the section's shared `quiet_report`, so callers copy it
    (appending to a repeated field does) and never change it."""
    assertions: list[_Report.AssertionEvaluationReport] = []
    if phrases:
        for phrase, pattern in zip(section.any, section.any_patterns, strict=True):
            if any(pattern.search(text) for text in texts):
                assertions.append(_assertion(f"matched {_quote(phrase)}", section.weight))
    seen: set[str] = set()
    for source, pattern in zip(section.regex, section.regex_patterns, strict=True):
        for text in texts:
            for match in pattern.finditer(text):
                found = match.group(0)
                key = found.casefold()
                if found and key not in seen:
                    seen.add(key)
                    assertions.append(
                        _assertion(f"matched regex {_quote(source)}: {_quote(found)}", section.weight)
                    )
    hits = len(assertions)
    score = 1.0 - (1.0 - section.weight) ** hits if hits else 0.0
    if hash_value in section.content_hashes:
        assertions.append(_assertion(f"matched content hash {_quote(hash_value)}", 1.0))
        score = 1.0
    exception_hits: list[_Report.AssertionEvaluationReport] = []
    if phrases:
        exception_hits = [
            _assertion(f"matched {_quote(phrase)}", 1.0)
            for phrase, pattern in zip(section.unless, section.unless_patterns, strict=True)
            if any(pattern.search(text) for text in texts)
        ]
    excepted = bool(exception_hits)
    if not (assertions or excepted):  # no evidence: score 0, never matched
        return section.quiet_report, False, 0.0, False
    matched = not excepted and score > 0.0 and score >= threshold
    return _section_report(section, assertions, score, matched, exception_hits), excepted, score, matched


def evaluate(
    policy: Policy,
    content: public_pb2.ContentData,
    threshold: float | None = None,
    *,
    hashed: str | None = None,
    into: public_pb2.PolicyEvaluationReport | None = None,
) -> public_pb2.PolicyEvaluationReport:
    """Evaluate one piece of content against a policy, returning the service's report shape.

    ``threshold`` is the request's threshold; ``None`` uses the policy's. Raises ValueError when it
    is outside [0, 1]. ``hashed`` is ``content_hash(content)`` when the caller has it already;
    ``into`` is an empty report to fill (e.g. a response's) instead of a new one.
    """
    if threshold is None:
        effective = policy.threshold
    elif isinstance(threshold, bool) or not (0.0 <= threshold <= 1.0):
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
    else:
        effective = float(threshold)

    texts = _texts(content)
    hash_value = content_hash(content) if hashed is None else hashed
    report = _Report() if into is None else into
    report.policy_id = policy.id
    report.policy_key = policy.name
    report.policy_version_id = policy.version_id
    report.content_hash = hash_value
    report.threshold = effective
    if content.metadata:  # update() of an empty map still costs the Mapping checks
        report.content_metadata.update(content.metadata)

    # Text and title joined by a character no phrase body matches: one search for both.
    phrases = policy.phrase_filter.may_match("\x00".join(texts))
    any_matched = False
    policy_score = 0.0
    for section in policy.sections:
        if phrases or section.regex or hash_value in section.content_hashes:
            section_report, excepted, score, matched = _evaluate_section(
                section, texts, hash_value, effective, phrases
            )
        else:  # nothing of the section can match: what _evaluate_section would find, sooner
            section_report, excepted, score, matched = section.quiet_report, False, 0.0, False
        report.section_evaluation_reports.append(section_report)
        if not excepted:
            policy_score = max(policy_score, score)
        if matched:
            any_matched = True
            report.label_matches[section.label] = score

    # Set in place (no temporary messages); outcome and multiplier are never 0, so both fields
    # are present as before.
    review = report.review_result
    review.outcome = public_pb2.OUTCOME_TRUE if any_matched else public_pb2.OUTCOME_FALSE
    review.score = policy_score
    tokens = min(sum(map(len, map(str.split, texts))), _INT32_MAX)
    usage = report.token_usage
    usage.input_tokens = usage.billed_tokens = tokens
    usage.multiplier = 1.0
    return report
