"""Dataset-version snapshots: their metrics, metrics groups and export archives.

A dataset version is a snapshot of the dataset's inputs taken when it is created: each input is
stored with all its labels folded into its data (concepts of input-level and other annotations
in `data.concepts`, every annotation's regions in `data.regions`), so later edits of the inputs do
not change the version, its metrics or its exports.

Export archive (format CLARIFAI_DATA_PROTOBUF), a zip file:

* ``mimetype`` (first member, stored uncompressed): exactly ``application/x.clarifai-data+protobuf``;
* ``all/batch_<nnnnn>_n<count>``: one serialized ``InputBatch`` of up to 128 inputs each (the
  ``_n<count>`` suffix is how clients count inputs without parsing), newest input first.

Each exported input has its labels, metadata and geo, and its content twice: the hosted copy
(``data.<kind>.hosted`` with ``{prefix}/orig/{suffix}`` an http URL of the emulator's file
host, valid while the emulator runs) and, so that the archive is self-contained, the bytes
themselves (``base64`` for images, video and audio; ``text.raw`` for text).
"""

from __future__ import annotations

import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from modelwire._gen.clarifai.api import resources_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.emulator.clarifai.indexing import label_concepts

MIMETYPE = b"application/x.clarifai-data+protobuf"
BATCH_SIZE = 128
ROOT_PATH = "/"  # the metrics key and parent_path of the whole version
GroupType = resources_pb2.DatasetVersionMetricsGroupType


def export_view(
    item: resources_pb2.Input, annotations: Iterable[resources_pb2.Annotation]
) -> resources_pb2.Input:
    """The input with every annotation's labels folded into its data."""
    view = resources_pb2.Input()
    view.CopyFrom(item)
    view.ClearField("dataset_ids")
    present = {c.id for c in view.data.concepts}
    for annotation in annotations:
        if annotation.input_level:
            continue  # the input's own data already holds these labels
        for concept in annotation.data.concepts:
            if concept.id not in present:
                present.add(concept.id)
                view.data.concepts.append(concept)
        view.data.regions.extend(annotation.data.regions)
    return view


@dataclass(frozen=True)
class Snapshot:
    """One input of a dataset version."""

    input: resources_pb2.Input
    kind: str
    embedded: bool


def _positive(concepts: Iterable[resources_pb2.Concept]) -> int:
    return sum(1 for c in concepts if c.value > 0)


Shape = Literal["bounding_box", "polygon", "point", "mask"]


def _region_count(item: resources_pb2.Input, shape: Shape) -> int:
    return sum(1 for r in item.data.regions if r.region_info.HasField(shape))


def metrics(entries: Sequence[Snapshot]) -> resources_pb2.DatasetVersionMetrics:
    counts: dict[str, int] = defaultdict(int)
    for entry in entries:
        data = entry.input.data
        tags = _positive(data.concepts)
        region_tags = sum(_positive(r.data.concepts) for r in data.regions)
        counts["inputs_count"] += 1
        counts["unlabeled_inputs_count"] += int(not tags and not data.regions)
        counts["inputs_with_metadata_count"] += int(data.HasField("metadata") and bool(data.metadata.fields))
        counts["inputs_with_geo_count"] += int(data.HasField("geo"))
        counts["regions_count"] += len(data.regions)
        counts["region_inputs_count"] += int(bool(data.regions))
        counts["bounding_boxes_count"] += _region_count(entry.input, "bounding_box")
        counts["polygons_count"] += _region_count(entry.input, "polygon")
        counts["points_count"] += _region_count(entry.input, "point")
        counts["masks_count"] += _region_count(entry.input, "mask")
        counts["embeddings_count"] += int(entry.embedded)
        counts["positive_input_tags_count"] += tags
        counts["positive_region_tags_count"] += region_tags
    result = resources_pb2.DatasetVersionMetrics()
    for name in (
        "inputs_count",
        "unlabeled_inputs_count",
        "inputs_with_metadata_count",
        "inputs_with_geo_count",
        "regions_count",
        "region_inputs_count",
        "bounding_boxes_count",
        "polygons_count",
        "points_count",
        "masks_count",
        "embeddings_count",
        "positive_input_tags_count",
        "positive_region_tags_count",
    ):
        getattr(result, name).value = counts[name]
    return result


def _positive_concept_ids(item: resources_pb2.Input) -> set[str]:
    return {c.id for c in label_concepts(item.data) if c.value > 0}


# How each group type splits a version's inputs: a function from an input to its group keys.
_GROUPERS: dict[GroupType.ValueType, Callable[[Snapshot], Iterable[str | int]]] = {
    GroupType.INPUT_TYPE: lambda e: [e.kind],
    GroupType.CONCEPT_ID: lambda e: sorted(_positive_concept_ids(e.input)),
    GroupType.CONCEPTS_COUNT: lambda e: [len(_positive_concept_ids(e.input))],
    GroupType.BOUNDING_BOXES_COUNT: lambda e: [_region_count(e.input, "bounding_box")],
    GroupType.POLYGONS_COUNT: lambda e: [_region_count(e.input, "polygon")],
}


def _value(key: str | int) -> struct_pb2.Value:
    return struct_pb2.Value(string_value=key) if isinstance(key, str) else struct_pb2.Value(number_value=key)


TOTAL = "total"  # the INPUT_TYPE group of every input, whatever its type


def groups(entries: Sequence[Snapshot]) -> list[resources_pb2.DatasetVersionMetricsGroup]:
    """Metrics of the inputs grouped by input type, concept id, and concept/box/polygon counts.

    The INPUT_TYPE groups start with "total", all the version's inputs, which is there even for
    an empty version (with zero counts): clients wait for a version's metrics until some group
    comes back (the published `get_upload_status`), and read the input count from "total"."""
    result = [
        resources_pb2.DatasetVersionMetricsGroup(
            parent_path=ROOT_PATH, type=GroupType.INPUT_TYPE, value=_value(TOTAL), metrics=metrics(entries)
        )
    ]
    for group_type, grouper in _GROUPERS.items():
        members: dict[str | int, list[Snapshot]] = defaultdict(list)
        for entry in entries:
            for key in grouper(entry):
                members[key].append(entry)
        for key in sorted(members, key=lambda k: (isinstance(k, str), k)):
            result.append(
                resources_pb2.DatasetVersionMetricsGroup(
                    parent_path=ROOT_PATH,
                    type=group_type,
                    value=_value(key),
                    metrics=metrics(members[key]),
                )
            )
    return result


def write_archive(path: Path, batches: Iterable[Sequence[resources_pb2.Input]]) -> int:
    """Write the export zip (see the module docstring); returns its size in bytes."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        for number, batch in enumerate(batches):
            payload = resources_pb2.InputBatch(inputs=batch).SerializeToString()
            archive.writestr(
                f"all/batch_{number:05d}_n{len(batch)}", payload, compress_type=zipfile.ZIP_DEFLATED
            )
    return path.stat().st_size
