"""Data types of the legacy client: `Concept`, `Image`, `Video`, `Input`, `Region` (with
`RegionInfo` and `BoundingBox`), `FeedbackInfo`, `ApiStatus` and `InputCounts`.

Each builds its V2 message (`_proto`) and reads it back (`_from_proto`); `dict()` gives the JSON
the legacy client showed. Arguments are checked when the object is made, so a bad concept list,
URL or box fails before any request.

`crop` (an image's four relative corner coordinates) is not supported: the V2 `Image` message has
no crop any more, and cropping client-side would need an imaging library. Crop the image before
uploading it, or label the area with `regions=[Region(RegionInfo(BoundingBox(...)), concepts)]`.
"""

from __future__ import annotations

import base64 as b64
import binascii
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from google.protobuf import json_format

from modelwire._gen.clarifai.api import resources_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.clarifai.errors import UserError
from modelwire.clarifai.legacy._wire import as_json, from_float32, timestamp_text
from modelwire.clarifai.legacy.geo import Geo

CROP_UNSUPPORTED = (
    "crop is not supported: the Clarifai V2 API removed Image.crop. Crop the image before sending it, "
    "or label the area with regions=[Region(RegionInfo(BoundingBox(top, left, bottom, right)), concepts)]"
)
FEEDBACK_TYPES = ("accurate", "misplaced", "not_detected", "false_positive")
EVENT_TYPES = ("annotation", "search_click")
_URL_SCHEMES = ("http://", "https://", "file://")


class Concept:
    """An app concept: `Concept(concept_name, concept_id=None, app_id=None, created_at=None, value=None)`."""

    def __init__(
        self,
        concept_name: str | None = None,
        concept_id: str | None = None,
        app_id: str | None = None,
        created_at: str | None = None,
        value: float | None = None,
    ) -> None:
        if not (concept_name or concept_id):
            raise UserError("Concept needs a concept_name or a concept_id")
        self.concept_name = concept_name
        self.concept_id = concept_id
        self.app_id = app_id
        self.created_at = created_at
        self.value = value

    def _proto(self, value: float | None = None) -> resources_pb2.Concept:
        """The concept as a label: the id is the concept_id, else the name (as the legacy API did)."""
        concept = resources_pb2.Concept(
            id=self.concept_id or self.concept_name or "", name=self.concept_name or ""
        )
        chosen = value if value is not None else self.value
        if chosen is not None:
            concept.value = float(chosen)
        return concept

    @classmethod
    def _from_proto(cls, concept: resources_pb2.Concept) -> Concept:
        return cls(
            concept.name or None,
            concept.id or None,
            concept.app_id or None,
            timestamp_text(concept, "created_at"),
            from_float32(concept.value),
        )

    def dict(self) -> dict[str, Any]:
        """The concept as the API's JSON (only the fields that are set)."""
        fields = {
            "id": self.concept_id,
            "name": self.concept_name,
            "value": self.value,
            "app_id": self.app_id,
            "created_at": self.created_at,
        }
        return {k: v for k, v in fields.items() if v is not None}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Concept) and self.dict() == other.dict()

    def __hash__(self) -> int:
        return hash((self.concept_id, self.concept_name))

    def __repr__(self) -> str:
        names = f"concept_name={self.concept_name!r}, concept_id={self.concept_id!r}"
        return f"Concept({names}, value={self.value!r})"


ConceptLike = str | Concept


def concept_list(values: Sequence[ConceptLike] | None, what: str) -> list[ConceptLike]:
    """A list of concept ids/names or Concepts (a bare string is refused: it is not a list)."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise UserError(f"{what} must be a list of concept ids (or Concept objects), got {values!r}")
    for item in values:
        if not (isinstance(item, Concept) or (isinstance(item, str) and item)):
            raise UserError(f"{what} must hold non-empty concept ids or Concept objects, got {item!r}")
    return list(values)


def id_list(values: Sequence[str], what: str) -> list[str]:
    """A non-empty list of non-empty ids (a bare string is refused: it is not a list)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise UserError(f"{what} must be a non-empty list of ids, got {values!r}")
    if not all(isinstance(i, str) and i for i in values):
        raise UserError(f"{what} must hold non-empty str ids, got {list(values)!r}")
    return list(values)


def label(concept: ConceptLike, value: float) -> resources_pb2.Concept:
    """A concept label with `value` (1 positive, 0 negative); a string is the concept's id."""
    if isinstance(concept, Concept):
        return concept._proto(value)
    return resources_pb2.Concept(id=concept, value=value)


def struct_of(values: dict[str, Any] | None, what: str) -> struct_pb2.Struct | None:
    """A JSON object as a Struct (None stays None); anything but a dict is refused."""
    if values is None:
        return None
    if not isinstance(values, dict):
        raise UserError(f"{what} must be a dict, got {type(values).__name__}")
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


# -- regions --------------------------------------------------------------------------------------


@dataclass
class BoundingBox:
    """A box in relative coordinates (0 to 1): top_row, left_col, bottom_row, right_col."""

    top_row: float
    left_col: float
    bottom_row: float
    right_col: float

    def __post_init__(self) -> None:
        values = (self.top_row, self.left_col, self.bottom_row, self.right_col)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise UserError(f"BoundingBox takes four numbers, got {values!r}")
        if not (0 <= self.top_row < self.bottom_row <= 1 and 0 <= self.left_col < self.right_col <= 1):
            raise UserError(
                "BoundingBox needs 0 <= top_row < bottom_row <= 1 and 0 <= left_col < right_col <= 1, "
                f"got {values!r}"
            )

    def dict(self) -> dict[str, Any]:
        """The box as the API's JSON: `{"bounding_box": {...}}`."""
        return {"bounding_box": asdict(self)}

    @classmethod
    def _from_proto(cls, box: resources_pb2.BoundingBox) -> BoundingBox:
        """The box as the API has it (not checked: a stored box may be degenerate)."""
        made = object.__new__(cls)
        for name in ("top_row", "left_col", "bottom_row", "right_col"):
            setattr(made, name, from_float32(getattr(box, name)))
        return made


@dataclass
class RegionInfo:
    """Where a region is (`bbox`), and for region feedback how the model did there."""

    bbox: BoundingBox | None = None
    feedback_type: str | None = None

    def __post_init__(self) -> None:
        if self.bbox is not None and not isinstance(self.bbox, BoundingBox):
            raise UserError(f"bbox must be a BoundingBox, got {type(self.bbox).__name__}")
        if self.feedback_type is not None and self.feedback_type not in FEEDBACK_TYPES:
            raise UserError(
                f"feedback_type must be one of {list(FEEDBACK_TYPES)}, got {self.feedback_type!r}"
            )

    def dict(self) -> dict[str, Any]:
        """The region info as the API's JSON: `{"region_info": {...}}`."""
        info: dict[str, Any] = self.bbox.dict() if self.bbox is not None else {}
        if self.feedback_type is not None:
            info["feedback"] = self.feedback_type
        return {"region_info": info}


class Region:
    """A labelled area of an image: `Region(region_info=RegionInfo(bbox=...), concepts=[...])`."""

    def __init__(
        self,
        region_info: RegionInfo | None = None,
        concepts: Sequence[ConceptLike] | None = None,
        region_id: str | None = None,
    ) -> None:
        if region_info is not None and not isinstance(region_info, RegionInfo):
            raise UserError(f"region_info must be a RegionInfo, got {type(region_info).__name__}")
        self.region_info = region_info
        self.concepts = concept_list(concepts, "Region concepts")
        self.region_id = region_id

    def _proto(self) -> resources_pb2.Region:
        region = resources_pb2.Region(id=self.region_id or "")
        box = self.region_info.bbox if self.region_info is not None else None
        if box is not None:
            region.region_info.bounding_box.CopyFrom(
                resources_pb2.BoundingBox(
                    top_row=box.top_row,
                    left_col=box.left_col,
                    bottom_row=box.bottom_row,
                    right_col=box.right_col,
                )
            )
        region.data.concepts.extend(
            label(c, c.value if isinstance(c, Concept) and c.value is not None else 1.0)
            for c in self.concepts
        )
        return region

    @classmethod
    def _from_proto(cls, region: resources_pb2.Region) -> Region:
        info = None
        if region.region_info.HasField("bounding_box"):
            box = region.region_info.bounding_box
            info = RegionInfo(BoundingBox._from_proto(box))
        concepts = [Concept._from_proto(c) for c in region.data.concepts]
        return cls(info, concepts, region.id or None)

    def dict(self) -> dict[str, Any]:
        """The region as the API's JSON (snake_case keys)."""
        return as_json(self._proto())

    def __repr__(self) -> str:
        where = f"region_id={self.region_id!r}, region_info={self.region_info!r}"
        return f"Region({where}, concepts={self.concepts!r})"


@dataclass
class FeedbackInfo:
    """Who gave feedback and in which context (kept with the feedback annotation)."""

    end_user_id: str | None = None
    session_id: str | None = None
    event_type: str | None = None
    output_id: str | None = None
    search_id: str | None = None

    def __post_init__(self) -> None:
        if self.event_type is not None and self.event_type not in EVENT_TYPES:
            raise UserError(f"event_type must be one of {list(EVENT_TYPES)}, got {self.event_type!r}")

    def dict(self) -> dict[str, Any]:
        """The feedback info as a dict of the fields that are set."""
        return {k: v for k, v in asdict(self).items() if v is not None}


# -- inputs ---------------------------------------------------------------------------------------


class Input:
    """What every input has: an id, concepts and not_concepts, metadata, a geo point, regions."""

    _kind: ClassVar[str] = ""

    def __init__(
        self,
        input_id: str | None = None,
        concepts: Sequence[ConceptLike] | None = None,
        not_concepts: Sequence[ConceptLike] | None = None,
        metadata: dict[str, Any] | None = None,
        geo: Geo | None = None,
        regions: Sequence[Region] | None = None,
        feedback_info: FeedbackInfo | None = None,
    ) -> None:
        if input_id is not None and (not isinstance(input_id, str) or not input_id):
            raise UserError(f"the input id must be a non-empty str, got {input_id!r}")
        if geo is not None and (
            not isinstance(geo, Geo) or geo.geo_point is None or geo.geo_limit is not None
        ):
            raise UserError(
                "an input's geo is one point: pass geo=Geo(geo_point=GeoPoint(longitude, latitude))"
            )
        if regions is not None and not all(isinstance(r, Region) for r in regions):
            raise UserError("regions must be a list of Region objects")
        if feedback_info is not None and not isinstance(feedback_info, FeedbackInfo):
            raise UserError(f"feedback_info must be a FeedbackInfo, got {type(feedback_info).__name__}")
        self.input_id = input_id
        self.concepts = concept_list(concepts, "concepts")
        self.not_concepts = concept_list(not_concepts, "not_concepts")
        struct_of(metadata, "metadata")  # checked now, not at the first request
        self.metadata = metadata
        self.geo = geo
        self.regions = list(regions or [])
        self.feedback_info = feedback_info
        # Set on inputs read from the API.
        self.score: float | None = None
        self.status: ApiStatus | None = None
        self.created_at: str | None = None
        self.modified_at: str | None = None

    def _labels(self) -> resources_pb2.Data:
        """The input's labels and metadata (what PatchInputs may change)."""
        data = resources_pb2.Data()
        data.concepts.extend(label(c, 1.0) for c in self.concepts)
        data.concepts.extend(label(c, 0.0) for c in self.not_concepts)
        metadata = struct_of(self.metadata, "metadata")
        if metadata is not None:
            data.metadata.CopyFrom(metadata)
        if self.geo is not None:
            data.geo.CopyFrom(self.geo._proto())
        data.regions.extend(r._proto() for r in self.regions)
        return data

    def _add_content(self, data: resources_pb2.Data) -> None:
        """Subclasses put their content (url or bytes) into `data`."""

    def _proto(self, content: bool = True) -> resources_pb2.Input:
        """The Input message: with the content for uploads, without it for patches."""
        item = resources_pb2.Input(id=self.input_id or "", data=self._labels())
        if content:
            self._add_content(item.data)
        return item

    def dict(self) -> dict[str, Any]:
        """The input as the API's JSON (snake_case keys), as it is sent."""
        return as_json(self._proto())

    @staticmethod
    def _from_proto(item: resources_pb2.Input, score: float | None = None) -> Input:
        """An Image, a Video, or (for other kinds of content) a plain Input."""
        data = item.data
        labels: dict[str, Any] = {
            "concepts": [c.id for c in data.concepts if c.value > 0],
            "not_concepts": [c.id for c in data.concepts if c.value <= 0],
            "metadata": json_format.MessageToDict(data.metadata) if data.HasField("metadata") else None,
            "geo": Geo._from_proto(data.geo),
        }
        regions = [Region._from_proto(r) for r in data.regions]
        result: Input
        if data.HasField("image"):
            result = Image(image_id=item.id, regions=regions, **labels)
        elif data.HasField("video"):
            result = Video(video_id=item.id, **labels)
        else:
            result = Input(item.id, regions=regions, **labels)
        if isinstance(result, _Media):
            result.url = getattr(data, result._kind).url or None  # as stored: not checked like input
        result.score = score
        result.status = ApiStatus._from_proto(item.status) if item.HasField("status") else None
        result.created_at = timestamp_text(item, "created_at")
        result.modified_at = timestamp_text(item, "modified_at")
        return result

    def __repr__(self) -> str:
        return f"{type(self).__name__}(input_id={self.input_id!r}, concepts={self.concepts!r})"


def content_bytes(file_obj: Any, base64: str | bytes | None, filename: str | None) -> bytes | None:
    """Raw bytes from an open binary file, base64 text, or a file name (None when none is given)."""
    if file_obj is not None:
        if not hasattr(file_obj, "read"):
            raise UserError(f"file_obj must be a file opened in binary mode, got {type(file_obj).__name__}")
        data = file_obj.read()
        if not isinstance(data, bytes):
            raise UserError("file_obj must be opened in binary mode ('rb')")
        return data
    if base64 is not None:
        try:
            return b64.b64decode(base64, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise UserError("base64 must be base64-encoded bytes (or text)") from None
    if filename is not None:
        try:
            return Path(filename).read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {filename!r}: {exc.strerror or exc}") from None
    return None


class _Media(Input):
    """An Image or Video: content from one of url, file_obj, base64 or filename (or none, for
    updates and for inputs read back from the API)."""

    def __init__(
        self,
        url: str | None,
        file_obj: Any,
        base64: str | bytes | None,
        filename: str | None,
        allow_dup_url: bool,
        input_id: str | None,
        **labels: Any,
    ) -> None:
        super().__init__(input_id, **labels)
        given = [
            n
            for n, v in (("url", url), ("file_obj", file_obj), ("base64", base64), ("filename", filename))
            if v is not None
        ]
        if len(given) > 1:
            raise UserError(
                f"{type(self).__name__} takes one of url, file_obj, base64 or filename, got {given}"
            )
        if url is not None and (not isinstance(url, str) or not url.startswith(_URL_SCHEMES)):
            raise UserError(f"url must be an http(s):// (or file://) URL, got {url!r}")
        self.url = url
        self.filename = filename
        self.file_obj = file_obj
        self.allow_dup_url = allow_dup_url
        self._bytes = content_bytes(file_obj, base64, filename)
        if self._bytes is not None and not self._bytes:
            raise UserError(f"the {type(self).__name__.lower()} content is empty")
        self.base64 = b64.b64encode(self._bytes) if self._bytes is not None else None

    def _add_content(self, data: resources_pb2.Data) -> None:
        part = getattr(data, self._kind)
        if self.url is not None:
            part.url = self.url
        elif self._bytes is not None:
            part.base64 = self._bytes
        else:
            raise UserError(
                f"{type(self).__name__} {self.input_id or ''} has no content: "
                "pass url, file_obj, base64 or filename"
            )
        part.allow_duplicate_url = self.allow_dup_url

    def __repr__(self) -> str:
        source = (
            f"url={self.url!r}" if self.url else f"filename={self.filename!r}" if self.filename else "bytes"
        )
        return f"{type(self).__name__}(input_id={self.input_id!r}, {source}, concepts={self.concepts!r})"


class Image(_Media):
    """An image input: `Image(url=... | file_obj=... | base64=... | filename=..., image_id=, concepts=,
    not_concepts=, regions=, metadata=, geo=, feedback_info=, allow_dup_url=)`. `crop` is refused
    (see the module docstring)."""

    _kind = "image"

    def __init__(
        self,
        url: str | None = None,
        file_obj: Any = None,
        base64: str | bytes | None = None,
        filename: str | None = None,
        crop: Sequence[float] | None = None,
        image_id: str | None = None,
        concepts: Sequence[ConceptLike] | None = None,
        not_concepts: Sequence[ConceptLike] | None = None,
        regions: Sequence[Region] | None = None,
        metadata: dict[str, Any] | None = None,
        geo: Geo | None = None,
        feedback_info: FeedbackInfo | None = None,
        allow_dup_url: bool = False,
    ) -> None:
        if crop is not None:
            raise UserError(CROP_UNSUPPORTED)
        super().__init__(
            url,
            file_obj,
            base64,
            filename,
            allow_dup_url,
            image_id,
            concepts=concepts,
            not_concepts=not_concepts,
            metadata=metadata,
            geo=geo,
            regions=regions,
            feedback_info=feedback_info,
        )

    @property
    def image_id(self) -> str | None:
        """The image's id (the same as `input_id`)."""
        return self.input_id


class Video(_Media):
    """A video input: `Video(url= | file_obj= | base64= | filename=, video_id=, concepts=, ...)`."""

    _kind = "video"

    def __init__(
        self,
        url: str | None = None,
        file_obj: Any = None,
        base64: str | bytes | None = None,
        filename: str | None = None,
        video_id: str | None = None,
        concepts: Sequence[ConceptLike] | None = None,
        not_concepts: Sequence[ConceptLike] | None = None,
        metadata: dict[str, Any] | None = None,
        geo: Geo | None = None,
        allow_dup_url: bool = False,
    ) -> None:
        super().__init__(
            url,
            file_obj,
            base64,
            filename,
            allow_dup_url,
            video_id,
            concepts=concepts,
            not_concepts=not_concepts,
            metadata=metadata,
            geo=geo,
        )

    @property
    def video_id(self) -> str | None:
        """The video's id (the same as `input_id`)."""
        return self.input_id


# -- statuses ---------------------------------------------------------------------------------------


@dataclass
class ApiStatus:
    """A response's status: `code` (10000 is success), `description`, `details`."""

    code: int
    description: str = ""
    details: str = ""

    @classmethod
    def _from_proto(cls, status: Any) -> ApiStatus:
        return cls(int(status.code), status.description, status.details)

    def dict(self) -> dict[str, Any]:
        """As 2.x showed it: ``{"status": {"code", "description"}}`` (and ``details`` when set)."""
        shown = {k: v for k, v in asdict(self).items() if k != "details" or v}
        return {"status": shown}


@dataclass
class InputCounts:
    """The app's inputs by processing state (GetInputCount), with the response's status."""

    processed: int = 0
    to_process: int = 0
    errors: int = 0
    processing: int = 0
    reindexed: int = 0
    to_reindex: int = 0
    reindex_errors: int = 0
    reindexing: int = 0
    code: int = status_code_pb2.SUCCESS
    description: str = ""

    @classmethod
    def _from_response(cls, response: Any) -> InputCounts:
        counts = response.counts
        return cls(
            processed=counts.processed,
            to_process=counts.to_process,
            errors=counts.errors,
            processing=counts.processing,
            reindexed=counts.reindexed,
            to_reindex=counts.to_reindex,
            reindex_errors=counts.reindex_errors,
            reindexing=counts.reindexing,
            code=int(response.status.code),
            description=response.status.description,
        )

    def dict(self) -> dict[str, Any]:
        """As 2.x showed it: ``{"counts": {"processed", "to_process", "errors", ...}}``."""
        return {"counts": {k: v for k, v in asdict(self).items() if k not in ("code", "description")}}
