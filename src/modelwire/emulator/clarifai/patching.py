"""Patch* RPCs of plain records (PatchApp, PatchApps, PatchDatasets, PatchWorkflows): one
descriptor-driven implementation, declared per resource by a `Patchable`.

A patch names each record by `id`; every one must exist (else the kind's "does not exist" code and
nothing changes). The fields a patch sets (proto3: non-default scalars, present messages, non-empty
lists) change the stored record by `action`, as Clarifai documents PATCH:

* "merge": scalars and messages are overwritten (messages deep-merged, except wrappers and
  timestamps, which are values); `metadata` is merged key by key (recursively; a null value deletes
  the key); a list of messages with an `id` merges items by id (a new id is appended); other lists
  get the values they lack appended.
* "overwrite": every field the patch sets replaces the stored one (lists and `metadata` whole).
* "remove": list items (by id, or by value) and `metadata` keys are removed; `image` is removed
  when the patch's `image.url` is the stored one. Other fields cannot be removed
  (the kind's invalid-argument code).

Ids, owner, times and the fields a resource computes (`Patchable.fixed`) are left as they are.
Each RPC supports the actions the real API documents for it (PatchApp(s): overwrite and remove;
datasets and workflows all three); an empty action is the RPC's first one. PatchApp(s) may set
`metadata_action.op` to treat `metadata` by another action than the rest.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from modelwire._core.wire import WELL_KNOWN_VALUES, is_repeated
from modelwire._gen.clarifai.api import service_pb2
from modelwire.emulator.clarifai.auth import Caller, Scope
from modelwire.emulator.clarifai.context import Route
from modelwire.emulator.clarifai.failures import ApiFailure, Code
from modelwire.emulator.clarifai.labels import ACTIONS, MERGE, OVERWRITE, REMOVE, edit_struct
from modelwire.emulator.clarifai.records import APP, Kind, Owner, Records, missing, timestamp

_V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]
_STRUCT = "google.protobuf.Struct"
# What no patch changes: the id names the record; owner and times are the service's.
ALWAYS_FIXED = frozenset({"id", "user_id", "app_id", "created_at", "modified_at", "is_starred", "star_count"})

Finish = Callable[[sqlite3.Connection, Owner, Any, Any], None]


@dataclass(frozen=True)
class Patchable:
    """How one Patch* RPC patches its records.

    `items` is the request's field of records (`datasets`; `app` for PatchApp, whose record is
    the app of `user_app_id`) and the response's; `actions` are those the RPC supports, the first
    being the default; `fixed` are the fields the service computes; `bad_request` is the code of
    a malformed request (unknown action, no records, no id). `check` validates a patched record
    (before, after); `finish` stores what goes with it (in the same transaction); `show` renders a
    stored record for the answer."""

    kind: Kind
    items: str
    bad_request: Code
    actions: tuple[str, ...] = (MERGE, OVERWRITE, REMOVE)
    fixed: frozenset[str] = frozenset()
    check: Callable[[Any, Any], None] | None = None
    finish: Finish | None = None
    show: Callable[[Owner, Any], Any] | None = None


def patch_route(records: Records, rpc: str, spec: Patchable, scope: Scope) -> Route:
    """The Route of Patch* RPC `rpc` over the records `spec` declares."""
    method = _V2.methods_by_name[rpc]
    response_class: Any = GetMessageClass(method.output_type)
    single = not is_repeated(method.input_type.fields_by_name[spec.items])

    def handler(caller: Caller, request: Any) -> Message:
        action = _action(request.action, spec)
        metadata_action = _metadata_action(request, action, spec)
        patches = _patches(request, spec, caller, single)
        owner = caller.owner
        with records.store.transaction() as conn:
            ids = list(dict.fromkeys(p.id for p in patches))
            found = {i: records.get(spec.kind, owner, i, type(patches[0])) for i in ids}
            absent = [i for i, record in found.items() if record is None]
            if absent:
                # Apps are the user's: say so, whatever app user_app_id names.
                place = Owner(owner.user_id, "") if spec.kind is APP else owner
                raise missing(spec.kind, absent, records.where(place))
            stored = {i: r for i, r in found.items() if r is not None}
            for patch in patches:
                target = stored[patch.id]
                before = type(target)()
                before.CopyFrom(target)
                apply_patch(
                    target,
                    patch,
                    action,
                    fixed=ALWAYS_FIXED | spec.fixed,
                    code=spec.kind.invalid,
                    what=f"{spec.kind.name} {patch.id!r}",
                    metadata_action=metadata_action,
                )
                if spec.check is not None:
                    spec.check(before, target)
                if spec.finish is not None:
                    spec.finish(conn, owner, before, target)
            now = timestamp(records.now())
            for record in stored.values():
                if "modified_at" in record.DESCRIPTOR.fields_by_name:
                    record.modified_at.CopyFrom(now)
                records.save(conn, spec.kind, owner, record, created_ns=0)
        shown = [stored[i] if spec.show is None else spec.show(owner, stored[i]) for i in ids]
        response: Message = response_class(**{spec.items: shown[0] if single else shown})
        return response

    return Route(scope, handler)


def _action(given: str, spec: Patchable) -> str:
    action = given or spec.actions[0]
    if action not in spec.actions:
        raise ApiFailure(
            spec.bad_request,
            f"action {given!r} is not supported for {spec.kind.name}s: use "
            + " or ".join(repr(a) for a in spec.actions),
        )
    return action


def _metadata_action(request: Any, action: str, spec: Patchable) -> str:
    """How `metadata` is patched: `metadata_action.op` where the request has one, else `action`."""
    if "metadata_action" not in request.DESCRIPTOR.fields_by_name or not request.HasField("metadata_action"):
        return action
    chosen = request.metadata_action
    if chosen.path:
        raise ApiFailure(
            spec.bad_request,
            "metadata_action.path is not supported by the emulator: patch the whole metadata "
            "(leave path empty)",
        )
    op = chosen.op or action
    if op not in ACTIONS:
        raise ApiFailure(
            spec.bad_request,
            f"metadata_action.op {chosen.op!r} is unknown: use 'merge', 'overwrite' or 'remove'",
        )
    return op


def _patches(request: Any, spec: Patchable, caller: Caller, single: bool) -> list[Any]:
    if single:
        if not request.HasField(spec.items):
            raise ApiFailure(spec.bad_request, f"no {spec.kind.name} given: set `{spec.items}`")
        patch = type(getattr(request, spec.items))()
        patch.CopyFrom(getattr(request, spec.items))
        # A singular Patch acts on the resource that user_app_id names.
        if patch.id and patch.id != caller.app_id:
            raise ApiFailure(
                spec.bad_request,
                f"{spec.items}.id {patch.id!r} differs from user_app_id.app_id {caller.app_id!r}: "
                "leave it empty or make them equal",
            )
        patch.id = caller.app_id
        return [patch]
    patches = list(getattr(request, spec.items))
    if not patches:
        raise ApiFailure(spec.bad_request, f"no {spec.kind.name}s given: list them in `{spec.items}`")
    if not all(p.id for p in patches):
        raise ApiFailure(spec.bad_request, f"every {spec.kind.name} to patch needs its id")
    return patches


# -- the patch itself (pure) ---------------------------------------------------------------------------


def apply_patch(
    target: Message,
    patch: Message,
    action: str,
    *,
    fixed: frozenset[str],
    code: Code,
    what: str,
    metadata_action: str | None = None,
) -> None:
    """Apply the fields `patch` sets to `target` (the same message type) by `action`; `fixed`
    fields are left alone. ApiFailure(`code`) names what cannot be done."""
    for descriptor, value in patch.ListFields():
        name = descriptor.name
        if name in fixed:
            continue
        chosen = (metadata_action or action) if name == "metadata" else action
        if chosen == REMOVE:
            _remove(target, descriptor, value, code, what)
        elif _is_message(descriptor, _STRUCT):
            edit_struct(getattr(target, name), value, chosen)
        elif _is_map(descriptor):
            _edit_map(getattr(target, name), value, chosen)
        elif is_repeated(descriptor):
            _edit_list(getattr(target, name), list(value), descriptor, chosen)
        elif descriptor.message_type is not None:
            current = getattr(target, name)
            if chosen == OVERWRITE or descriptor.message_type.full_name in WELL_KNOWN_VALUES:
                current.CopyFrom(value)
            else:
                current.MergeFrom(value)
        else:
            setattr(target, name, value)


def _is_message(descriptor: FieldDescriptor, full_name: str) -> bool:
    return descriptor.message_type is not None and descriptor.message_type.full_name == full_name


def _is_map(descriptor: FieldDescriptor) -> bool:
    return descriptor.message_type is not None and descriptor.message_type.GetOptions().map_entry


def _has_id(descriptor: FieldDescriptor) -> bool:
    return descriptor.message_type is not None and "id" in descriptor.message_type.fields_by_name


def _edit_list(target: Any, patch: Sequence[Any], descriptor: FieldDescriptor, action: str) -> None:
    if action == OVERWRITE:
        del target[:]
        target.extend(patch)
        return
    if _has_id(descriptor):  # merge: an item with a known id is merged in place, others appended
        where = {item.id: index for index, item in enumerate(target)}
        for item in patch:
            if item.id and item.id in where:
                target[where[item.id]].MergeFrom(item)
            else:
                target.add().CopyFrom(item)
    elif descriptor.message_type is not None:
        for item in patch:
            target.add().CopyFrom(item)
    else:
        present = set(target)
        target.extend(v for v in dict.fromkeys(patch) if v not in present)


def _edit_map(target: Any, patch: Any, action: str) -> None:
    if action == OVERWRITE:
        target.clear()
    for key in patch:
        value = patch[key]
        if hasattr(value, "CopyFrom"):
            target[key].CopyFrom(value)
        else:
            target[key] = value


def _remove(target: Message, descriptor: FieldDescriptor, value: Any, code: Code, what: str) -> None:
    name = descriptor.name
    current: Any = getattr(target, name)
    if _is_message(descriptor, _STRUCT):
        edit_struct(current, value, REMOVE)
    elif _is_map(descriptor):
        for key in list(value):
            current.pop(key, None)
    elif is_repeated(descriptor):
        if _has_id(descriptor):
            doomed = {item.id for item in value}
            kept = [item for item in current if item.id not in doomed]
        else:
            doomed = set(value)
            kept = [item for item in current if item not in doomed]
        del current[:]
        if descriptor.message_type is not None:
            for item in kept:
                current.add().CopyFrom(item)
        else:
            current.extend(kept)
    elif name == "image":
        if not value.url or value.url != current.url:
            raise ApiFailure(
                code,
                f"{what}: 'remove' takes the image away only when image.url is its current url "
                f"({current.url!r}), got {value.url!r}",
            )
        target.ClearField(name)
    else:
        raise ApiFailure(
            code,
            f"{what}: action 'remove' removes list items, metadata keys or the image; {name!r} "
            "cannot be removed (set it with 'overwrite')",
        )
