"""Check our hand-written protos against the descriptors that the published packages ship.

Every message, field, enum value, service and method that protos/ declares must match the real
package in name, number, type, label (and proto3 `optional`), message/enum type name, oneof
membership and, for methods, input/output types and client/server streaming. We declare a subset:
whatever exists only on their side is fine; whatever we declare that they lack, or that differs,
is a mismatch.

Each target in TARGETS is a pip requirement installed, once, into its own virtual environment
outside the repo (`${MODELWIRE_CACHE:-~/.cache/modelwire}/venvs/<target>`), since the published
SDKs pin protobuf versions that cannot share our venv. A small dumper run by that venv's python
imports the package and writes its descriptors as a FileDescriptorSet; this script (in our own
interpreter) builds the same from the generated modules and compares the two.

    python scripts/compat.py                     # every target (what `make compat` runs)
    python scripts/compat.py --target clavata    # only this one (repeatable)
    python scripts/compat.py --keep-going        # go on to the next target if one cannot be set up
    python scripts/compat.py --target decthings  # Decthings has no protos: both clients' results
                                                 # against the emulator (scripts/compat_decthings.py)

Exit status: 0 all match, 1 mismatches, 2 a target could not be set up (pip, venv or import failure).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
GENERATED = ROOT / "generated"  # importable as modelwire._gen (src/modelwire/_gen is a symlink to it)
GEN_PREFIX = "modelwire._gen"

FDS = descriptor_pb2.FileDescriptorSet
FileProto = descriptor_pb2.FileDescriptorProto
MessageProto = descriptor_pb2.DescriptorProto
EnumProto = descriptor_pb2.EnumDescriptorProto
ServiceProto = descriptor_pb2.ServiceDescriptorProto
FieldProto = descriptor_pb2.FieldDescriptorProto


@dataclass(frozen=True)
class Target:
    """One published package to check a part of our protos against.

    `package` is one of our proto packages or a parent of some (`clavata` covers `clavata.shared.v1`,
    ...). Several targets may cover one package (spelled the same in each), each restricted to a set
    of top-level (package-level) names: `only` checks just those names, `exclude` skips them; a full
    run reports any of our names under the package that no target checks. Names are fully qualified, without
    a leading dot (`clarifai.api.Model`); a top-level message brings its fields and nested types.
    A method may be listed on its own (`clarifai.api.V2.PostModules`), for a service whose methods
    come from different published versions; listing the service means all of its methods.
    """

    name: str  # --target value and venv directory name
    requirement: str  # what `pip install` gets
    imports: tuple[str, ...]  # statements run in order in the target's venv to load its descriptors
    package: str  # proto package (prefix) of ours that this target checks
    only: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()

    def covers_package(self, proto_package: str) -> bool:
        return proto_package == self.package or proto_package.startswith(self.package + ".")

    def selects(self, name: str) -> bool:
        """A top-level name, or a method (`pkg.Service.Method`), which its service's entry also covers."""
        parent = name.rpartition(".")[0]
        if self.only is not None and name not in self.only and parent not in self.only:
            return False
        return name not in self.exclude and parent not in self.exclude


CLARIFAI_IMPORTS = (
    "from clarifai_grpc.grpc.api import service_pb2, resources_pb2",
    "from clarifai_grpc.grpc.api.status import status_pb2, status_code_pb2",
)
# Declared in protos/clarifai but only published up to clarifai-grpc 12.1.1.
CLARIFAI_MODULE_NAMES = frozenset(
    {
        *(
            f"clarifai.api.{name}"
            for name in (
                "Module",
                "ModuleVersion",
                "InstalledModuleVersion",
                "PostModulesRequest",
                "GetModuleRequest",
                "ListModulesRequest",
                "DeleteModulesRequest",
                "ListModuleVersionsRequest",
                "ListInstalledModuleVersionsRequest",
                "MultiModuleResponse",
                "SingleModuleResponse",
                "MultiModuleVersionResponse",
                "MultiInstalledModuleVersionResponse",
            )
        ),
        *(
            f"clarifai.api.V2.{rpc}"
            for rpc in (
                "PostModules",
                "GetModule",
                "ListModules",
                "DeleteModules",
                "ListModuleVersions",
                "ListInstalledModuleVersions",
            )
        ),
    }
)

TARGETS: tuple[Target, ...] = (
    Target(
        name="clavata",
        requirement="clavata-sdk==1.1.0",
        imports=(
            "import clavata_sdk",  # puts the SDK's vendored `protobufs` dir on sys.path
            "from clavata.gateway.v1 import gateway_pb2, labels_pb2, errs_pb2",
            "from clavata.shared.v1 import public_pb2, shared_pb2",
        ),
        package="clavata",
    ),
    # Clarifai: two targets share `clarifai.api` (their proto package too), split by name. The
    # Module messages and RPCs were removed upstream in clarifai-grpc 12.1.2, so they are checked
    # against 12.1.1 and everything else against 12.6.0 (docs/decisions/0004-clarifai-protos.md).
    Target(
        name="clarifai",
        requirement="clarifai-grpc==12.6.0",
        imports=CLARIFAI_IMPORTS,
        package="clarifai.api",
        exclude=CLARIFAI_MODULE_NAMES,
    ),
    Target(
        name="clarifai-modules",
        requirement="clarifai-grpc==12.1.1",
        imports=CLARIFAI_IMPORTS,
        package="clarifai.api",
        only=CLARIFAI_MODULE_NAMES,
    ),
)


# Decthings has no protos to compare: scripts/compat_decthings.py runs the published client (in this
# venv) and ours against the emulator and compares what they return (`--target decthings`).
DECTHINGS_TARGET = Target(
    name="decthings", requirement="decthings-api==0.0.4", imports=(), package="decthings"
)

# Published SDKs whose Python surface, not their protos, tests/dropin/test_signatures.py compares
# with ours (scripts/signatures.py dumps both sides); `make compat` does not run them. clarifai
# 12.5.0's protos are clarifai-grpc's (checked above), and 2.x cannot share a venv with it (both
# are the `clarifai` package). bench/run.py runs clarifai 12.5.0 in the same `clarifai-sdk` venv.
SIGNATURE_TARGETS: tuple[Target, ...] = (
    Target(name="clarifai-sdk", requirement="clarifai==12.5.0", imports=(), package=""),
    Target(name="clarifai-legacy", requirement="clarifai==2.6.2", imports=(), package=""),
)


class CompatError(Exception):
    """A target could not be set up: the message says which and why."""


# --------------------------------------------------------------------------------------------------
# Comparison (pure: FileDescriptorSet in, mismatch lines out)


@dataclass
class Result:
    mismatches: list[str] = field(default_factory=list)
    messages: int = 0
    fields: int = 0
    enum_values: int = 0
    methods: int = 0

    def summary(self) -> str:
        return (
            f"{self.messages} messages, {self.fields} fields, {self.enum_values} enum values, "
            f"{self.methods} methods checked, {len(self.mismatches)} mismatches"
        )


Definition = tuple[str, "MessageProto | EnumProto | ServiceProto", FileProto]  # kind, proto, its file


def _qualify(package: str, name: str) -> str:
    return f"{package}.{name}" if package else name


def _walk_message(name: str, msg: MessageProto, file: FileProto) -> Iterator[tuple[str, Definition]]:
    yield name, ("message", msg, file)
    for nested in msg.nested_type:
        yield from _walk_message(f"{name}.{nested.name}", nested, file)
    for enum in msg.enum_type:
        yield f"{name}.{enum.name}", ("enum", enum, file)


def index(fds: FDS) -> dict[str, Definition]:
    """Every message and enum (nested too) and service, by fully-qualified name without a leading dot."""
    out: dict[str, Definition] = {}
    for file in fds.file:
        for msg in file.message_type:
            out.update(_walk_message(_qualify(file.package, msg.name), msg, file))
        for enum in file.enum_type:
            out[_qualify(file.package, enum.name)] = ("enum", enum, file)
        for svc in file.service:
            out[_qualify(file.package, svc.name)] = ("service", svc, file)
    return out


def top_level_names(fds: FDS, package: Callable[[str], bool]) -> list[str]:
    """Package-level definitions of the files whose package satisfies `package`."""
    names: list[str] = []
    for file in fds.file:
        if not package(file.package):
            continue
        names += [_qualify(file.package, m.name) for m in file.message_type]
        names += [_qualify(file.package, e.name) for e in file.enum_type]
        names += [_qualify(file.package, s.name) for s in file.service]
    return sorted(names)


def _type(t: int) -> str:
    return FieldProto.Type.Name(t).removeprefix("TYPE_").lower()  # type: ignore[arg-type]


def _label(t: int) -> str:
    return FieldProto.Label.Name(t).removeprefix("LABEL_").lower()  # type: ignore[arg-type]


def _yes(b: bool) -> str:
    return "yes" if b else "no"


def _real_oneof(f: FieldProto, msg: MessageProto) -> str:
    """Name of the (non-synthetic) oneof the field belongs to, or "(none)"."""
    if f.HasField("oneof_index") and not f.proto3_optional and f.oneof_index < len(msg.oneof_decl):
        return msg.oneof_decl[f.oneof_index].name
    return "(none)"


def _compare_field(
    name: str,
    ours: FieldProto,
    mine: MessageProto,
    theirs: FieldProto,
    their_msg: MessageProto,
    out: list[str],
) -> None:
    def diff(what: str, a: object, b: object) -> None:
        if a != b:
            out.append(f"{name}: {what} {a} vs theirs {b}")

    diff("number", ours.number, theirs.number)
    diff("type", _type(ours.type), _type(theirs.type))
    if ours.type == theirs.type:
        diff("type name", ours.type_name or "(none)", theirs.type_name or "(none)")
    diff("label", _label(ours.label), _label(theirs.label))
    diff("proto3 optional", _yes(ours.proto3_optional), _yes(theirs.proto3_optional))
    diff("oneof", _real_oneof(ours, mine), _real_oneof(theirs, their_msg))


def _compare_message(
    name: str,
    ours: MessageProto,
    theirs: MessageProto,
    source: str,
    their_index: dict[str, Definition],
    result: Result,
) -> None:
    out = result.mismatches
    result.messages += 1
    if ours.options.map_entry != theirs.options.map_entry:
        out.append(
            f"{name}: map entry {_yes(ours.options.map_entry)} vs theirs {_yes(theirs.options.map_entry)}"
        )
    their_fields = {f.name: f for f in theirs.field}
    their_numbers = {f.number: f.name for f in theirs.field}
    for f in ours.field:
        result.fields += 1
        fname = f"{name}.{f.name}"
        tf = their_fields.get(f.name)
        if tf is None:
            hint = (
                f" (their field {f.number} is {their_numbers[f.number]})" if f.number in their_numbers else ""
            )
            out.append(f"{fname}: not in {source}{hint}")
            continue
        _compare_field(fname, f, ours, tf, theirs, out)
    for nested in ours.nested_type:
        _compare_definition(f"{name}.{nested.name}", "message", nested, source, their_index, result)
    for enum in ours.enum_type:
        _compare_definition(f"{name}.{enum.name}", "enum", enum, source, their_index, result)


def _compare_enum(name: str, ours: EnumProto, theirs: EnumProto, source: str, result: Result) -> None:
    their_values = {v.name: v.number for v in theirs.value}
    their_numbers: dict[int, str] = {}
    for v in theirs.value:
        their_numbers.setdefault(v.number, v.name)
    for v in ours.value:
        result.enum_values += 1
        vname = f"{name}.{v.name}"
        if v.name not in their_values:
            hint = f" (their {v.number} is {their_numbers[v.number]})" if v.number in their_numbers else ""
            result.mismatches.append(f"{vname}: not in {source}{hint}")
        elif their_values[v.name] != v.number:
            result.mismatches.append(f"{vname}: number {v.number} vs theirs {their_values[v.name]}")


def _compare_service(
    name: str,
    ours: ServiceProto,
    theirs: ServiceProto,
    source: str,
    result: Result,
    select: Callable[[str], bool],
) -> None:
    out = result.mismatches
    their_methods = {m.name: m for m in theirs.method}
    for m in ours.method:
        if not select(f"{name}.{m.name}"):
            continue
        result.methods += 1
        mname = f"{name}.{m.name}"
        tm = their_methods.get(m.name)
        if tm is None:
            out.append(f"{mname}: not in {source}")
            continue
        for what, a, b in (
            ("input type", m.input_type, tm.input_type),
            ("output type", m.output_type, tm.output_type),
            ("client streaming", _yes(m.client_streaming), _yes(tm.client_streaming)),
            ("server streaming", _yes(m.server_streaming), _yes(tm.server_streaming)),
        ):
            if a != b:
                out.append(f"{mname}: {what} {a} vs theirs {b}")


def _compare_definition(
    name: str,
    kind: str,
    ours: MessageProto | EnumProto | ServiceProto,
    source: str,
    their_index: dict[str, Definition],
    result: Result,
    select: Callable[[str], bool] = lambda n: True,
) -> None:
    theirs = their_index.get(name)
    if theirs is None or theirs[0] != kind:
        # count what we declared even though there is nothing to compare it with
        if isinstance(ours, MessageProto):
            result.messages += 1
            result.fields += len(ours.field)
        elif isinstance(ours, EnumProto):
            result.enum_values += len(ours.value)
        else:
            result.methods += sum(1 for m in ours.method if select(f"{name}.{m.name}"))
        what = f"not in {source}" if theirs is None else f"{kind} vs theirs {theirs[0]}"
        result.mismatches.append(f"{name}: {what}")
        return
    their_proto = theirs[1]
    if isinstance(ours, MessageProto) and isinstance(their_proto, MessageProto):
        _compare_message(name, ours, their_proto, source, their_index, result)
    elif isinstance(ours, EnumProto) and isinstance(their_proto, EnumProto):
        _compare_enum(name, ours, their_proto, source, result)
    elif isinstance(ours, ServiceProto) and isinstance(their_proto, ServiceProto):
        _compare_service(name, ours, their_proto, source, result, select)


def compare(
    ours: FDS,
    theirs: FDS,
    *,
    package: Callable[[str], bool] = lambda p: True,
    select: Callable[[str], bool] = lambda n: True,
    source: str = "theirs",
) -> Result:
    """Check every definition in `ours` against `theirs`.

    Only files whose proto package satisfies `package` are checked, and in them only the top-level
    definitions whose fully-qualified name satisfies `select`; a service is checked when `select`
    accepts it or any of its methods (`pkg.Service.Method`), and then only for the methods that
    `select` accepts. `source` names their side in the "not in ..." lines.
    """
    result = Result()
    their_index = index(theirs)
    for file in ours.file:
        if not package(file.package):
            continue
        defs: list[tuple[str, MessageProto | EnumProto | ServiceProto]] = [
            *(("message", m) for m in file.message_type),
            *(("enum", e) for e in file.enum_type),
            *(("service", s) for s in file.service),
        ]
        for kind, proto in defs:
            name = _qualify(file.package, proto.name)
            if select(name) or _any_method_selected(name, proto, select):
                _compare_definition(name, kind, proto, source, their_index, result, select)
    return result


def _any_method_selected(name: str, proto: object, select: Callable[[str], bool]) -> bool:
    return isinstance(proto, ServiceProto) and any(select(f"{name}.{m.name}") for m in proto.method)


def _methods(fds: FDS, package: Callable[[str], bool]) -> dict[str, list[str]]:
    """Fully-qualified service name -> its methods' names (`pkg.Service.Method`)."""
    return {
        _qualify(file.package, svc.name): [f"{_qualify(file.package, svc.name)}.{m.name}" for m in svc.method]
        for file in fds.file
        if package(file.package)
        for svc in file.service
    }


def coverage_problems(ours_by_package: dict[str, FDS], targets: Iterable[Target]) -> list[str]:
    """Table errors: a declared name that no target checks, or a listed name that we do not declare."""
    targets = list(targets)
    problems: list[str] = []
    for package, ours in ours_by_package.items():
        group = [t for t in targets if t.package == package]
        declared = top_level_names(ours, group[0].covers_package) if group else []
        methods = _methods(ours, group[0].covers_package) if group else {}
        for name in declared:
            own = methods.get(name, [])
            if not any(t.selects(n) for t in group for n in (name, *own)):
                problems.append(f"{name}: checked by no target (see TARGETS in scripts/compat.py)")
                continue
            problems += [
                f"{m}: checked by no target (see TARGETS in scripts/compat.py)"
                for m in own
                if not any(t.selects(m) for t in group)
            ]
        declared += [m for own in methods.values() for m in own]
        for t in group:
            for listed in sorted((t.only or frozenset()) | t.exclude):
                if listed not in declared:
                    problems.append(f"{listed}: listed for target {t.name} but not declared in protos/")
    return problems


# --------------------------------------------------------------------------------------------------
# Our side: the generated modules, in this interpreter


def our_descriptors(package: str) -> FDS:
    """FileDescriptorSet of every generated *_pb2 module under `package` (and their dependencies)."""
    from google.protobuf.descriptor import FileDescriptor

    directory = GENERATED.joinpath(*package.split("."))
    modules = sorted(directory.rglob("*_pb2.py")) if directory.is_dir() else []
    if not modules:
        raise CompatError(f"no generated *_pb2.py modules under {directory} (run `make generate`)")
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    files: list[FileDescriptor] = []
    for path in modules:
        dotted = ".".join((GEN_PREFIX, *path.relative_to(GENERATED).with_suffix("").parts))
        try:
            module = importlib.import_module(dotted)
        except Exception as exc:
            raise CompatError(f"cannot import our generated module {dotted}: {exc!r}") from exc
        files.append(module.DESCRIPTOR)
    return _to_set(files)


def _to_set(roots: Iterable[object]) -> FDS:
    from google.protobuf.descriptor import FileDescriptor

    seen: dict[str, FileDescriptor] = {}
    order: list[FileDescriptor] = []

    def add(fd: FileDescriptor) -> None:
        if fd.name in seen:
            return
        seen[fd.name] = fd
        for dep in fd.dependencies:
            add(dep)
        order.append(fd)

    for root in roots:
        if isinstance(root, FileDescriptor):
            add(root)
    out = FDS()
    for fd in order:
        fd.CopyToProto(out.file.add())
    return out


# --------------------------------------------------------------------------------------------------
# Their side: a venv per target, and a dumper run in it

# Run as `python -I -c DUMPER OUT_PATH IMPORTS_JSON` by the target venv's python (any protobuf version).
DUMPER = r"""
import json, sys, traceback
import google.protobuf
from google.protobuf import descriptor, descriptor_pb2

out_path, statements = sys.argv[1], json.loads(sys.argv[2])
before = set(sys.modules)
for statement in statements:
    try:
        exec(statement, {"__name__": "__modelwire_compat__"})
    except BaseException:
        sys.stderr.write("modelwire-compat-dumper: failed: %s\n" % statement)
        traceback.print_exc()
        sys.exit(3)

seen, order = set(), []
def add(fd):
    if fd.name in seen:
        return
    seen.add(fd.name)
    for dep in fd.dependencies:
        add(dep)
    order.append(fd)

for name in sorted(set(sys.modules) - before):
    try:
        fd = getattr(sys.modules[name], "DESCRIPTOR", None)
    except Exception:
        continue
    if isinstance(fd, descriptor.FileDescriptor):
        add(fd)

fds = descriptor_pb2.FileDescriptorSet()
for fd in order:
    fd.CopyToProto(fds.file.add())
with open(out_path, "wb") as f:
    f.write(fds.SerializeToString())
print(json.dumps({"protobuf": google.protobuf.__version__, "files": len(order)}))
"""

MARKER = ".modelwire-requirement"
TAIL = 30


def _log(msg: str) -> None:
    print(f"compat: {msg}", file=sys.stderr, flush=True)


def _clean_env() -> dict[str, str]:
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _tail(text: str, n: int = TAIL) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join(("  | " + line) for line in lines[-n:]) or "  | (no output)"


def cache_dir() -> Path:
    base = Path(os.environ.get("MODELWIRE_CACHE") or Path.home() / ".cache" / "modelwire").expanduser()
    base = base.resolve()
    if base == ROOT or ROOT in base.parents:
        raise CompatError(f"MODELWIRE_CACHE={base} is inside the repo; point it outside {ROOT}")
    return base


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_venv(target: Target) -> Path:
    """The target's venv with its requirement installed; created on first use, then reused."""
    venvs = cache_dir() / "venvs"
    venv = venvs / target.name
    python = _venv_python(venv)
    marker = venv / MARKER
    with _locked(venvs / f"{target.name}.lock"):
        if python.exists() and marker.is_file() and marker.read_text().strip() == target.requirement:
            return python
        if venv.exists():
            _log(f"{target.name}: rebuilding {venv} (incomplete or for another requirement)")
            shutil.rmtree(venv)
        _log(f"{target.name}: creating {venv}")
        proc = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)],
            capture_output=True,
            text=True,
            env=_clean_env(),
            check=False,
        )
        if proc.returncode != 0 or not python.exists():
            raise CompatError(
                f"{target.name}: `{sys.executable} -m venv {venv}` failed "
                f"(exit {proc.returncode}):\n{_tail(proc.stdout + proc.stderr)}"
            )
        _log(f"{target.name}: pip install {target.requirement}")
        cmd = [
            str(python),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            target.requirement,
        ]
        proc = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_clean_env(), check=False
        )
        if proc.returncode != 0:
            raise CompatError(
                f"{target.name}: pip install {target.requirement!r} failed "
                f"(exit {proc.returncode}) in {venv}; pip said:\n{_tail(proc.stdout)}"
            )
        marker.write_text(target.requirement + "\n")  # written last: its presence means "complete"
    return python


def dump_descriptors(python: Path | str, imports: Iterable[str], label: str) -> tuple[FDS, dict[str, object]]:
    """Run the dumper with `python`; returns their FileDescriptorSet and the dumper's info line."""
    with tempfile.TemporaryDirectory(prefix="modelwire-compat-") as tmp:
        out = Path(tmp) / "descriptors.binpb"
        cmd = [str(python), "-I", "-c", DUMPER, str(out), json.dumps(list(imports))]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, env=_clean_env(), check=False)
        if proc.returncode != 0 or not out.is_file():
            first = next((ln for ln in proc.stderr.splitlines() if "modelwire-compat-dumper" in ln), "")
            which = first.split("failed: ", 1)[-1] if first else "(dumper)"
            raise CompatError(
                f"{label}: loading descriptors with {python} failed at `{which}` "
                f"(exit {proc.returncode}):\n{_tail(proc.stderr)}"
            )
        fds = FDS.FromString(out.read_bytes())
    try:
        info: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        info = {}
    return fds, info


# --------------------------------------------------------------------------------------------------


def run_target(target: Target, ours: FDS) -> Result:
    python = ensure_venv(target)
    theirs, info = dump_descriptors(python, target.imports, target.name)
    if not any(target.covers_package(f.package) for f in theirs.file):
        raise CompatError(
            f"{target.name}: the imports loaded no proto package under {target.package} "
            f"({len(theirs.file)} files loaded); check the target's imports"
        )
    _log(
        f"{target.name}: {len(theirs.file)} files from {target.requirement} "
        f"(protobuf {info.get('protobuf', '?')} in its venv)"
    )
    return compare(
        ours, theirs, package=target.covers_package, select=target.selects, source=target.requirement
    )


def run_decthings() -> int:
    """scripts/compat_decthings.py's check, with the published client's venv; prints its mismatches
    and summary line and returns the number of mismatches."""
    python = ensure_venv(DECTHINGS_TARGET)
    spec = importlib.util.spec_from_file_location(
        "modelwire_compat_decthings", ROOT / "scripts" / "compat_decthings.py"
    )
    if spec is None or spec.loader is None:
        raise CompatError("decthings: cannot load scripts/compat_decthings.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    try:
        result = module.check(python)
    except module.SetupError as exc:
        raise CompatError(f"decthings: {exc}") from exc
    except Exception as exc:  # e.g. the emulator could not start, or a set-up call of ours failed
        raise CompatError(f"decthings: the check broke:\n{_tail(traceback.format_exc())}") from exc
    for line in result.mismatches:
        print(line)
    print(f"{DECTHINGS_TARGET.name} ({DECTHINGS_TARGET.requirement}): {result.summary()}", flush=True)
    return len(result.mismatches)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    names = [t.name for t in TARGETS] + [DECTHINGS_TARGET.name]
    parser.add_argument(
        "--target",
        action="append",
        choices=names,
        metavar="NAME",
        help=f"check only this target (repeatable; default all: {', '.join(names)})",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="if a target cannot be set up, report it and go on with the others",
    )
    args = parser.parse_args(argv)
    chosen = [t for t in TARGETS if args.target is None or t.name in args.target]
    decthings = args.target is None or DECTHINGS_TARGET.name in args.target

    errors = 0
    mismatches = 0
    ours_by_package: dict[str, FDS] = {}
    try:
        for t in chosen:
            if t.package not in ours_by_package:
                ours_by_package[t.package] = our_descriptors(t.package)
    except CompatError as exc:
        print(f"compat: error: {exc}", file=sys.stderr)
        return 2

    if args.target is None:  # the table itself: only meaningful with every target of a package
        for line in coverage_problems(ours_by_package, TARGETS):
            print(line)
            mismatches += 1

    for t in chosen:
        try:
            result = run_target(t, ours_by_package[t.package])
        except CompatError as exc:
            print(f"compat: error: {exc}", file=sys.stderr)
            errors += 1
            if not args.keep_going:
                break
            continue
        for line in result.mismatches:
            print(line)
        mismatches += len(result.mismatches)
        print(f"{t.name} ({t.requirement}): {result.summary()}", flush=True)

    if decthings and (not errors or args.keep_going):
        try:
            found = run_decthings()
        except CompatError as exc:
            print(f"compat: error: {exc}", file=sys.stderr)
            errors += 1
        else:
            mismatches += found

    if errors:
        return 2
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
