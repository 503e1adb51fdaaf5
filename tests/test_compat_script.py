"""Self-test of scripts/compat.py's comparison, on small descriptor sets built here (no network)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from compat import TARGETS, CompatError, Target, compare, coverage_problems, dump_descriptors

FDS = descriptor_pb2.FileDescriptorSet
F = descriptor_pb2.FieldDescriptorProto
SOURCE = "their-sdk==1.0"


def _field(msg: descriptor_pb2.DescriptorProto, name: str, number: int, ftype: int, *,
           label: int = F.LABEL_OPTIONAL, type_name: str = "", oneof: int | None = None,
           proto3_optional: bool = False) -> None:  # fmt: skip
    f = msg.field.add(name=name, number=number, type=ftype, label=label)
    if type_name:
        f.type_name = type_name
    if oneof is not None:
        f.oneof_index = oneof
    f.proto3_optional = proto3_optional


def build() -> FDS:
    """package t.v1: enum Color, message Item (with nested, oneof, optional, map-free), service Svc."""
    fds = FDS()
    f = fds.file.add(name="t/v1/a.proto", package="t.v1", syntax="proto3")
    color = f.enum_type.add(name="Color")
    color.value.add(name="COLOR_UNSPECIFIED", number=0)
    color.value.add(name="COLOR_RED", number=1)
    item = f.message_type.add(name="Item")
    item.oneof_decl.add(name="body")
    item.oneof_decl.add(name="_note")
    nested = item.nested_type.add(name="Nested")
    _field(nested, "id", 1, F.TYPE_INT64)
    _field(item, "name", 1, F.TYPE_STRING)
    _field(item, "count", 2, F.TYPE_INT32)
    _field(item, "tags", 3, F.TYPE_STRING, label=F.LABEL_REPEATED)
    _field(item, "note", 4, F.TYPE_STRING, oneof=1, proto3_optional=True)
    _field(item, "text", 5, F.TYPE_STRING, oneof=0)
    _field(item, "data", 6, F.TYPE_BYTES, oneof=0)
    _field(item, "color", 7, F.TYPE_ENUM, type_name=".t.v1.Color")
    _field(item, "inner", 8, F.TYPE_MESSAGE, type_name=".t.v1.Item.Nested")
    other = f.message_type.add(name="Other")
    _field(other, "item", 1, F.TYPE_MESSAGE, type_name=".t.v1.Item")
    svc = f.service.add(name="Svc")
    svc.method.add(name="Get", input_type=".t.v1.Item", output_type=".t.v1.Item")
    svc.method.add(name="Watch", input_type=".t.v1.Item", output_type=".t.v1.Other", server_streaming=True)
    g = fds.file.add(name="x/other.proto", package="x", syntax="proto3")  # outside the checked package
    g.message_type.add(name="Elsewhere")
    return fds


def _in_t(package: str) -> bool:
    return package == "t" or package.startswith("t.")


def check(ours: FDS, theirs: FDS, select: Callable[[str], bool] = lambda n: True) -> list[str]:
    return compare(ours, theirs, package=_in_t, select=select, source=SOURCE).mismatches


def _msg(fds: FDS, name: str) -> descriptor_pb2.DescriptorProto:
    return next(m for m in fds.file[0].message_type if m.name == name)


def _fld(fds: FDS, msg: str, name: str) -> descriptor_pb2.FieldDescriptorProto:
    return next(f for f in _msg(fds, msg).field if f.name == name)


def test_identical_sets_match_and_are_counted() -> None:
    result = compare(build(), build(), package=_in_t, source=SOURCE)
    assert result.mismatches == []
    assert (result.messages, result.fields, result.enum_values, result.methods) == (3, 10, 2, 2)
    assert result.summary() == "3 messages, 10 fields, 2 enum values, 2 methods checked, 0 mismatches"


def test_extra_things_on_their_side_are_fine() -> None:
    theirs = build()
    _field(_msg(theirs, "Item"), "extra", 99, F.TYPE_BOOL)
    theirs.file[0].message_type.add(name="TheirsOnly")
    theirs.file[0].enum_type[0].value.add(name="COLOR_BLUE", number=2)
    theirs.file[0].service[0].method.add(name="More", input_type=".t.v1.Item", output_type=".t.v1.Item")
    ours = build()
    del ours.file[0].message_type[1]  # we may declare less than they do
    assert check(ours, theirs) == []


def test_files_outside_the_package_are_not_checked() -> None:
    theirs = build()
    del theirs.file[1]
    assert check(build(), theirs) == []


def _set_number(t: FDS) -> None:
    _fld(t, "Item", "count").number = 12


def _set_type(t: FDS) -> None:
    _fld(t, "Item", "count").type = F.TYPE_INT64


def _set_label(t: FDS) -> None:
    _fld(t, "Item", "tags").label = F.LABEL_OPTIONAL


def _drop_proto3_optional(t: FDS) -> None:
    f = _fld(t, "Item", "note")
    f.proto3_optional = False
    f.ClearField("oneof_index")
    del _msg(t, "Item").oneof_decl[1]


def _leave_oneof(t: FDS) -> None:
    _fld(t, "Item", "data").ClearField("oneof_index")


def _rename_oneof(t: FDS) -> None:
    _msg(t, "Item").oneof_decl[0].name = "payload"


def _retarget_type_name(t: FDS) -> None:
    _fld(t, "Other", "item").type_name = ".t.v1.Item.Nested"


def _remove_message(t: FDS) -> None:
    del t.file[0].message_type[1]


def _remove_nested(t: FDS) -> None:
    del _msg(t, "Item").nested_type[0]


def _remove_field(t: FDS) -> None:
    msg = _msg(t, "Item")
    del msg.field[1]
    _field(msg, "amount", 2, F.TYPE_INT32)


def _set_enum_number(t: FDS) -> None:
    t.file[0].enum_type[0].value[1].number = 2


def _remove_enum_value(t: FDS) -> None:
    del t.file[0].enum_type[0].value[1]


def _set_streaming(t: FDS) -> None:
    t.file[0].service[0].method[1].server_streaming = False


def _set_client_streaming(t: FDS) -> None:
    t.file[0].service[0].method[0].client_streaming = True


def _set_input(t: FDS) -> None:
    t.file[0].service[0].method[0].input_type = ".t.v1.Other"


def _remove_method(t: FDS) -> None:
    del t.file[0].service[0].method[0]


def _remove_service(t: FDS) -> None:
    del t.file[0].service[0]


def _enum_to_message(t: FDS) -> None:
    del t.file[0].enum_type[0]
    t.file[0].message_type.add(name="Color")


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_set_number, "t.v1.Item.count: number 2 vs theirs 12"),
        (_set_type, "t.v1.Item.count: type int32 vs theirs int64"),
        (_set_label, "t.v1.Item.tags: label repeated vs theirs optional"),
        (_drop_proto3_optional, "t.v1.Item.note: proto3 optional yes vs theirs no"),
        (_leave_oneof, "t.v1.Item.data: oneof body vs theirs (none)"),
        (_retarget_type_name, "t.v1.Other.item: type name .t.v1.Item vs theirs .t.v1.Item.Nested"),
        (_remove_message, f"t.v1.Other: not in {SOURCE}"),
        (_remove_nested, f"t.v1.Item.Nested: not in {SOURCE}"),
        (_remove_field, f"t.v1.Item.count: not in {SOURCE} (their field 2 is amount)"),
        (_set_enum_number, "t.v1.Color.COLOR_RED: number 1 vs theirs 2"),
        (_remove_enum_value, f"t.v1.Color.COLOR_RED: not in {SOURCE}"),
        (_set_streaming, "t.v1.Svc.Watch: server streaming yes vs theirs no"),
        (_set_client_streaming, "t.v1.Svc.Get: client streaming no vs theirs yes"),
        (_set_input, "t.v1.Svc.Get: input type .t.v1.Item vs theirs .t.v1.Other"),
        (_remove_method, f"t.v1.Svc.Get: not in {SOURCE}"),
        (_remove_service, f"t.v1.Svc: not in {SOURCE}"),
        (_enum_to_message, "t.v1.Color: enum vs theirs message"),
    ],
)
def test_each_difference_is_reported_once(mutate: Callable[[FDS], None], expected: str) -> None:
    theirs = build()
    mutate(theirs)
    assert check(build(), theirs) == [expected]


def test_renamed_oneof_is_reported_per_member() -> None:
    theirs = build()
    _rename_oneof(theirs)
    assert check(build(), theirs) == [
        "t.v1.Item.text: oneof body vs theirs payload",
        "t.v1.Item.data: oneof body vs theirs payload",
    ]


def test_several_differences_are_all_reported() -> None:
    theirs = build()
    for mutate in (_set_number, _set_type, _set_enum_number, _set_streaming, _remove_message):
        mutate(theirs)
    assert len(check(build(), theirs)) == 5


def test_targets_restrict_to_names() -> None:
    theirs = build()
    _remove_message(theirs)  # t.v1.Other is missing on their side
    _set_enum_number(theirs)
    only_other = Target("a", "a==1", (), "t", only=frozenset({"t.v1.Other"}))
    rest = Target("b", "b==1", (), "t", exclude=frozenset({"t.v1.Other"}))
    assert check(build(), theirs, only_other.selects) == [f"t.v1.Other: not in {SOURCE}"]
    assert check(build(), theirs, rest.selects) == ["t.v1.Color.COLOR_RED: number 1 vs theirs 2"]
    assert coverage_problems({"t": build()}, [only_other, rest]) == []


def test_coverage_problems_in_the_target_table() -> None:
    only_item = Target("a", "a==1", (), "t", only=frozenset({"t.v1.Item", "t.v1.Typo"}))
    assert coverage_problems({"t": build()}, [only_item]) == [
        "t.v1.Color: checked by no target (see TARGETS in scripts/compat.py)",
        "t.v1.Other: checked by no target (see TARGETS in scripts/compat.py)",
        "t.v1.Svc: checked by no target (see TARGETS in scripts/compat.py)",
        "t.v1.Typo: listed for target a but not declared in protos/",
    ]


def test_target_table_is_well_formed() -> None:
    names = [t.name for t in TARGETS]
    assert len(names) == len(set(names))
    assert all(t.imports and "==" in t.requirement for t in TARGETS)
    assert TARGETS[0].covers_package("clavata.shared.v1")
    assert not TARGETS[0].covers_package("clavatax.v1")


def test_dumper_writes_the_loaded_files_and_their_dependencies() -> None:
    fds, info = dump_descriptors(sys.executable, ["from google.protobuf import api_pb2"], "self")
    names = {f.name for f in fds.file}
    assert {"google/protobuf/api.proto", "google/protobuf/type.proto"} <= names
    assert "protobuf" in info


def test_dumper_import_failure_names_the_statement() -> None:
    with pytest.raises(CompatError, match="failed at `import modelwire_no_such_module`"):
        dump_descriptors(sys.executable, ["import json", "import modelwire_no_such_module"], "self")
