"""Our public signatures and member kinds against the published packages', for every class and
method the seeds document (tests/dropin/signature_targets.yaml).

scripts/signatures.py dumps each side with that side's interpreter: the published release in its
own venv (this interpreter when it has exactly that release, as `make test-published` does;
otherwise the venv scripts/compat.py keeps for it, built on first use), modelwire with this one.
For each member, what a caller would notice fails the test: a missing member; another kind
(staticmethod vs instance method; staticmethod and classmethod count as one, as do property and
instance attribute, while a published class attribute such as an enum member must stay one, since
it is read from the class too); async-ness; a published parameter ours does not take by the same
name and kind, at the same position (only **kwargs taking it does not count); ours requiring what
published leaves optional, or requiring an extra one; a different default, unless both are
"nothing" (None, '', {}, ...). A difference we mean is listed with its reason in
tests/dropin/signature_allowlist.yaml; an entry that matches nothing fails too, so the list stays
true.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "scripts"))

import compat  # noqa: E402
import signatures  # noqa: E402

DUMPER = ROOT / "scripts" / "signatures.py"
TARGETS = yaml.safe_load((HERE / "signature_targets.yaml").read_text())
ALLOWLIST = yaml.safe_load((HERE / "signature_allowlist.yaml").read_text())
PROVIDERS = list(TARGETS)
VENV_TARGETS = {t.name: t for t in (*compat.TARGETS, compat.DECTHINGS_TARGET, *compat.SIGNATURE_TARGETS)}
# Building a venv installs a published SDK and its dependencies from PyPI (once; then reused).
SETUP_TIMEOUT = 1800


@dataclass
class Pair:
    """One published class and one of ours that stands in for it."""

    name: str  # how the report and the allow-list call ours
    published: str
    ours: str
    members: list[str]


@dataclass
class Report:
    differences: list[tuple[str, str]] = field(default_factory=list)  # (allow-list key, message)
    classes: int = 0
    members: int = 0


def pairs(provider: str) -> list[Pair]:
    out = []
    for entry in TARGETS[provider]["classes"]:
        ours = entry["ours"] if isinstance(entry["ours"], list) else [entry["ours"]]
        default_name = entry["published"].partition(":")[2]
        for item in ours:
            path, name = (item["path"], item["name"]) if isinstance(item, dict) else (item, default_name)
            out.append(Pair(name, entry["published"], path, [str(m) for m in entry["members"]]))
    return out


def dump(python: Path | str, paths: list[tuple[str, list[str]]]) -> dict[str, Any]:
    """scripts/signatures.py run by `python` (isolated, outside the repo) on `paths`."""
    with tempfile.TemporaryDirectory(prefix="modelwire-signatures-") as tmp:
        specs, out = Path(tmp) / "specs.json", Path(tmp) / "out.json"
        specs.write_text(json.dumps([{"path": p, "members": [m for m in ms if m != "*"]} for p, ms in paths]))
        done = subprocess.run(
            [str(python), "-I", str(DUMPER), str(specs), str(out)],
            capture_output=True,
            text=True,
            cwd=tmp,
            env=compat._clean_env(),
            timeout=600,
            check=False,
        )
        assert done.returncode == 0 and out.is_file(), f"{python} {DUMPER} failed:\n{done.stderr[-3000:]}"
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def has_release(requirement: str) -> bool:
    """Is exactly `name==version` installed in this interpreter?"""
    name, _, version = requirement.partition("==")
    try:
        return importlib.metadata.version(name) == version
    except importlib.metadata.PackageNotFoundError:
        return False


def published_python(provider: str) -> str:
    target = VENV_TARGETS[TARGETS[provider]["venv"]]
    if has_release(target.requirement):
        return sys.executable
    try:
        return str(compat.ensure_venv(target))
    except (compat.CompatError, OSError) as exc:
        pytest.skip(f"the venv of {target.requirement} cannot be built here: {exc}")


def compare(provider: str, theirs: dict[str, Any], ours: dict[str, Any]) -> Report:
    report = Report()
    for pair in pairs(provider):
        report.classes += 1
        their_class, our_class = theirs[pair.published], ours[pair.ours]
        if their_class["error"]:
            why = f"{pair.published} does not import: {their_class['error']}"
            report.differences.append((f"{pair.name}: not in published", why))
            continue
        if our_class["error"]:
            report.differences.append(
                (f"{pair.name}: missing", f"{pair.ours} does not import: {our_class['error']}")
            )
            continue
        names = [m for m in pair.members if m != "*"]
        if "*" in pair.members:
            names += sorted(n for n in their_class["members"] if not n.startswith("_") and n not in names)
        for member in names:
            report.members += 1
            missing = {"kind": "missing", "async": None, "params": None, "signature_error": None}
            theirs_m = their_class["members"].get(member, missing)
            ours_m = our_class["members"].get(member, missing)
            for what, message in signatures.compare_member(theirs_m, ours_m):
                report.differences.append((f"{pair.name}.{member}: {what}", message))
    return report


def allowed(provider: str) -> dict[str, tuple[str, str]]:
    """pattern -> (section, reason) of every allow-list section for `provider`."""
    out: dict[str, tuple[str, str]] = {}
    for section, providers in ALLOWLIST.items():
        for pattern, reason in ((providers or {}).get(provider) or {}).items():
            assert reason and str(reason).strip(), f"{section}/{provider}/{pattern!r}: give a reason"
            out[pattern] = (section, str(reason))
    return out


@pytest.fixture(scope="module")
def our_dumps() -> dict[str, Any]:
    return dump(sys.executable, [(p.ours, p.members) for provider in PROVIDERS for p in pairs(provider)])


@pytest.mark.timeout(SETUP_TIMEOUT)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_signatures_match_the_published_package(provider: str, our_dumps: dict[str, Any]) -> None:
    target = VENV_TARGETS[TARGETS[provider]["venv"]]
    python = published_python(provider)
    theirs = dump(python, [(p.published, p.members) for p in pairs(provider)])
    assert not all(c["error"] for c in theirs.values()), (
        f"nothing of {target.requirement} imports with {python}: {next(iter(theirs.values()))['error']}"
    )
    report = compare(provider, theirs, our_dumps)
    allow = allowed(provider)
    used: set[str] = set()
    unexplained = []
    for key, message in report.differences:
        hits = [p for p in allow if fnmatch.fnmatchcase(key, p)]
        used.update(hits)
        if not hits:
            unexplained.append(f"  {key}\n      {message}")
    stale = [f"  {p!r} ({allow[p][0]})" for p in allow if p not in used]
    published_classes = len({p.published for p in pairs(provider)})
    print(
        f"{provider}: {published_classes} published classes ({report.classes} with each of ours), "
        f"{report.members} members compared with "
        f"{target.requirement}; {len(report.differences)} differences, all but {len(unexplained)} allowed"
    )
    problems = []
    if unexplained:
        problems.append(
            f"{len(unexplained)} differences from {target.requirement} a caller would notice. Fix them, "
            f"or list each under `{provider}:` in the right section of tests/dropin/signature_allowlist.yaml "
            f"with the reason:\n" + "\n".join(unexplained)
        )
    if stale:
        problems.append(
            f"allow-list entries for {provider} that match no difference any more (remove them):\n"
            + "\n".join(stale)
        )
    assert not problems, "\n\n".join(problems)


def test_every_provider_has_a_venv_target_and_allowlist_sections_are_known() -> None:
    for provider, spec in TARGETS.items():
        assert spec["venv"] in VENV_TARGETS, f"{provider}: no scripts/compat.py target {spec['venv']!r}"
    assert set(ALLOWLIST) <= {"deliberate", "not_in_published", "open", "being_added"}, set(ALLOWLIST)
    for section, providers in ALLOWLIST.items():
        unknown = set(providers or {}) - set(TARGETS)
        assert not unknown, f"{section}: unknown providers {unknown}"


# The comparison rules themselves, on hand-made members (no venv needed).


def _p(name: str, kind: str = "POSITIONAL_OR_KEYWORD", default: object = ...) -> dict[str, Any]:
    has = default is not ...
    return {
        "name": name,
        "kind": kind,
        "default": has,
        "default_repr": signatures.default_repr(default) if has else None,
    }


def _m(kind: str, *params: dict[str, Any], is_async: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "async": is_async, "params": list(params), "signature_error": None}


def _whats(theirs: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    return [what for what, _ in signatures.compare_member(theirs, ours)]


def test_rules_accept_a_looser_signature() -> None:
    theirs = _m("function", _p("a"), _p("b", default=None), _p("c", "KEYWORD_ONLY"))
    ours = _m("function", _p("a"), _p("b", default=""), _p("c", default=None), _p("d", "KEYWORD_ONLY", 1))
    assert _whats(theirs, ours) == []
    assert _whats(_m("staticmethod", _p("x")), _m("classmethod", _p("x"))) == []
    assert _whats(_m("instance attribute"), _m("property")) == []


def test_rules_report_what_a_caller_would_notice() -> None:
    assert _whats(_m("staticmethod", _p("x")), _m("function", _p("x"))) == ["kind"]
    assert _whats(_m("function", is_async="coroutine"), _m("function")) == ["async"]
    assert _whats(_m("function", _p("size")), _m("function", _p("chunk_size"))) == [
        "(size): missing",
        "(chunk_size): extra required",
    ]
    assert _whats(_m("function", _p("a"), _p("b")), _m("function", _p("b"), _p("a"))) == [
        "(a): position",
        "(b): position",
    ]
    assert _whats(_m("function", _p("a", default=1)), _m("function", _p("a"))) == ["(a): required"]
    assert _whats(_m("function", _p("a")), _m("function", _p("a", "KEYWORD_ONLY"))) == ["(a): kind"]
    assert _whats(_m("function", _p("r", default=10)), _m("function", _p("r", default=5))) == ["(r): default"]
    assert _whats(_m("function", _p("t", default=None)), _m("function", _p("t", default=object()))) == [
        "(t): default"  # a sentinel is not "nothing"
    ]
    assert _whats(_m("function", _p("kw", "VAR_KEYWORD")), _m("function")) == ["(**kw): missing"]
    assert _whats(_m("attribute"), _m("property")) == ["kind"]  # `Cls.NAME` no longer works
    assert _whats(_m("function"), _m("missing")) == ["missing"]
