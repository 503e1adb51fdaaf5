"""What the `patch_*` methods share (pure): the actions, the keyword arguments the published SDK
accepts in a patch, and the per-item failures of a patch response.

As in clarifai 12.5.0, `visibility=10` is `Visibility(gettable=10)` and `image_url="..."` is
`image=Image(url=...)`; every other keyword is a field of the patched resource (a value, a dict or
a message of any origin, see `_proto`), checked before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from modelwire._gen.clarifai.api.status import status_code_pb2, status_pb2
from modelwire.clarifai._base import op
from modelwire.clarifai.errors import UserError, status_failure

MERGE, OVERWRITE, REMOVE = "merge", "overwrite", "remove"
ACTIONS = (MERGE, OVERWRITE, REMOVE)
PREDICATES = ("hyponym", "hypernym", "synonym")
# Item statuses that are not failures: done, still processing (a patched input may be), or none.
_ITEM_OK = frozenset(
    {
        0,
        status_code_pb2.SUCCESS,
        status_code_pb2.INPUT_DOWNLOAD_SUCCESS,
        status_code_pb2.INPUT_DOWNLOAD_PENDING,
        status_code_pb2.INPUT_DOWNLOAD_IN_PROGRESS,
        status_code_pb2.ANNOTATION_SUCCESS,
    }
)


def check_action(action: Any, allowed: Sequence[str], what: str) -> str:
    if action not in allowed:
        raise UserError(f"{what}: action must be one of {list(allowed)}, got {action!r}")
    return str(action)


def check_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise UserError(f"{name} must be a non-empty str, got {value!r}")
    return value


def check_ids(values: Any, name: str) -> list[str]:
    """A list of non-empty str ids (a str alone is refused: it would be read letter by letter)."""
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise UserError(f"{name} must be a list of ids, got {type(values).__name__}")
    items = list(values)
    for index, value in enumerate(items):
        check_id(value, f"{name}[{index}]")
    return items


def same_length(name: str, values: Sequence[Any], other: str, others: Sequence[Any]) -> None:
    if values and len(values) != len(others):
        raise UserError(f"{name} must have one entry per {other} ({len(others)}), got {len(values)}")


def resource_fields(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The published SDK's patch shorthands as fields: visibility (a number), image_url."""
    fields = dict(kwargs)
    visibility = fields.get("visibility")
    if isinstance(visibility, int) and not isinstance(visibility, bool):
        fields["visibility"] = {"gettable": visibility}
    if "image_url" in fields:
        url = fields.pop("image_url")
        if not isinstance(url, str):
            raise UserError(f"image_url must be a str, got {type(url).__name__}")
        fields["image"] = {"url": url}
    return fields


def raise_for_item_failures(
    name: str, response: Any, items: Sequence[Any], key: Callable[[Any], str]
) -> None:
    """Raise one ApiError naming every item of a per-item response that failed (the first
    failure's code types it); a SUCCESS response is not scanned."""
    if response.status.code in (0, status_code_pb2.SUCCESS):
        return
    failed = [item for item in items if item.status.code not in _ITEM_OK]
    if not failed:
        return
    shown = "; ".join(f"{key(item)!r}: {_reason(item.status)}" for item in failed[:10])
    more = f" (and {len(failed) - 10} more)" if len(failed) > 10 else ""
    first = failed[0].status
    status = status_pb2.Status(
        description=first.description, details=f"{len(failed)} of {len(items)} failed: {shown}{more}"
    )
    status.code = first.code
    error = status_failure(status, op(name).path, response=response)
    if error is not None:
        raise error


def _reason(status: Any) -> str:
    text = status.description or f"status {status.code}"
    return f"{text}: {status.details}" if status.details else text
