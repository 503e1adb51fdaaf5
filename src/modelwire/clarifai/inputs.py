"""`Inputs`: build input and annotation messages, upload, list, annotate, delete, download.

Bulk uploads (`upload_inputs_bulk`, used by Dataset's uploads) send batches of <= 128 with bounded
concurrency and a progress bar, wait for each batch's add-job, retry inputs that failed to
process, and return an `UploadSummary` of uploaded and failed ids with reasons. Nothing is dropped
silently, and retries never duplicate data: inputs are identified by id, and an id that already
exists with its data processed counts as uploaded.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from modelwire._core.batching import Progress, chunked
from modelwire._core.config import check_timeout, is_int_at_least
from modelwire._core.errors import ApiError as CoreApiError
from modelwire._core.errors import ModelwireError
from modelwire._core.wire import bad_input_as
from modelwire._core.writes import (
    WriteSummary,
    account_failed_batch,
    attach_summary,
    failure_reason,
    write_batches,
)
from modelwire._gen.clarifai.api import resources_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire.clarifai._base import BaseClient
from modelwire.clarifai._patching import (
    ACTIONS,
    OVERWRITE,
    check_action,
    check_id,
    check_ids,
    raise_for_item_failures,
    same_length,
)
from modelwire.clarifai._proto import merge_into, of_type, to_messages
from modelwire.clarifai.errors import ApiClientError, ApiError, UserError

log = logging.getLogger("modelwire.clarifai")

MAX_UPLOAD_BATCH_SIZE = 128
MAX_RETRIES = 2
INPUT_SUCCESS = status_code_pb2.INPUT_DOWNLOAD_SUCCESS
_PENDING = {status_code_pb2.INPUT_DOWNLOAD_PENDING, status_code_pb2.INPUT_DOWNLOAD_IN_PROGRESS}
_KINDS = ("image", "video", "audio", "text")
_PARTS: dict[str, Any] = {
    "image": resources_pb2.Image,
    "video": resources_pb2.Video,
    "audio": resources_pb2.Audio,
    "text": resources_pb2.Text,
}
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


@dataclass(repr=False)
class UploadSummary(WriteSummary):
    """What a bulk upload did with each input id: `uploaded`, `failed` (id -> reason) or `unknown`
    (sent, outcome not known: it may have landed; a rerun with the same ids settles it). Nothing
    is dropped. When an upload stops on an error, the error carries this as `err.summary`."""

    job_ids: list[str] = field(default_factory=list)

    def merge(self, other: WriteSummary) -> None:
        """Add `other`'s ids (and, from another `UploadSummary`, its job ids) to this summary."""
        super().merge(other)
        if isinstance(other, UploadSummary):
            self.job_ids += other.job_ids

    def raise_for_failures(self) -> None:
        """Raise when any input failed or is unknown; return None when all were uploaded.

        Raises:
            ApiClientError: Some inputs failed or are unknown; the message samples them and the error
                carries this summary as `err.summary`.
        """
        if self.failed or self.unknown:
            shown = _sample({**self.failed, **self.unknown})
            raise attach_summary(ApiClientError(f"{self.describe()} ({shown})"), self)


def clean_input_id(name: str) -> str:
    """An input id from a file name: the stem, with characters the API rejects replaced."""
    stem = Path(name).stem
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem).strip("-")
    return cleaned[:48] or uuid.uuid4().hex


def _read(path: str | os.PathLike[str], what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {what} {os.fspath(path)!r}: {exc.strerror or exc}") from None


class Inputs(BaseClient):
    """Inputs of one app: `Inputs(user_id, app_id, base_url, pat, token)`.

    The `get_*` builders are static (`Inputs.get_text_input(...)`, as published): they make
    messages locally and need no client, so an `Inputs()` without a user_id is fine for them.
    """

    _user_id_optional = True

    def __init__(
        self,
        user_id: str = "",
        app_id: str = "",
        logger_level: str | None = None,
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            user_id=user_id or None, app_id=app_id, base_url=base_url, pat=pat, token=token, **kwargs
        )
        # Only an explicit level changes logging: a library must not reset the application's choice
        # each time an Inputs object is made (the published client set INFO on every construction).
        if logger_level is not None:
            log.setLevel(logger_level)

    # -- builders (local, no RPC) ------------------------------------------------------------------

    @staticmethod
    def _get_proto(
        input_id: str,
        dataset_id: str | None = None,
        imagepb: resources_pb2.Image | None = None,
        videopb: resources_pb2.Video | None = None,
        audiopb: resources_pb2.Audio | None = None,
        textpb: resources_pb2.Text | None = None,
        geo_info: Sequence[float] | None = None,
        labels: Sequence[str] | None = None,
        label_ids: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | Message | None = None,
    ) -> resources_pb2.Input:
        if not input_id or not isinstance(input_id, str):
            raise UserError(f"input_id must be a non-empty str, got {input_id!r}")
        data = resources_pb2.Data()
        for name, part in (("image", imagepb), ("video", videopb), ("audio", audiopb), ("text", textpb)):
            if part is not None:
                getattr(data, name).CopyFrom(part)
        if geo_info is not None:
            if len(geo_info) != 2:
                raise UserError(f"geo_info must be [longitude, latitude], got {list(geo_info)!r}")
            data.geo.geo_point.longitude, data.geo.geo_point.latitude = float(geo_info[0]), float(geo_info[1])
        if labels:
            if label_ids is not None and len(label_ids) != len(labels):
                raise UserError("label_ids must have one id per label")
            for i, label in enumerate(labels):
                concept_id = label_ids[i] if label_ids is not None else label
                data.concepts.add(id=concept_id, name=label, value=1.0)
        if metadata is not None:
            merge_into(data.metadata, metadata, what="metadata")  # a dict or a Struct of any origin
        return resources_pb2.Input(id=input_id, data=data, dataset_ids=[dataset_id] if dataset_id else [])

    @staticmethod
    def _sources(kind: str, values: dict[str, Any]) -> dict[str, Any]:
        """The given sources by kind ("image", ...): one or more, as published (an input may carry
        an image and a video, say); none is an error naming what to pass."""
        given = {name.removesuffix(f"_{kind}"): v for name, v in values.items() if v is not None}
        if not given:
            raise UserError(f"pass at least one of {', '.join(values)}")
        return given

    @staticmethod
    @bad_input_as(UserError)
    def get_input_from_url(
        input_id: str,
        image_url: str | None = None,
        video_url: str | None = None,
        audio_url: str | None = None,
        text_url: str | None = None,
        dataset_id: str | None = None,
        **kwargs: Any,
    ) -> resources_pb2.Input:
        """An `Input` message whose content the API fetches from URLs (built locally, nothing is sent).

        Args:
            input_id: The input's id.
            image_url: URL of an image (one or more of the four URLs must be given).
            video_url: URL of a video.
            audio_url: URL of an audio file.
            text_url: URL of a text file.
            dataset_id: Add the input to this dataset when uploaded.
            **kwargs: `geo_info=[longitude, latitude]`, `labels=[...]` (concept names, each a positive
                concept), `label_ids=[...]` (their ids, one per label), `metadata={...}`.

        Returns:
            The `Input` message, ready for `upload_inputs`.

        Raises:
            UserError: No URL was given, or an argument has the wrong type.
        """
        urls = Inputs._sources(
            "url",
            {"image_url": image_url, "video_url": video_url, "audio_url": audio_url, "text_url": text_url},
        )
        for kind, url in urls.items():
            if not isinstance(url, str):
                raise UserError(f"{kind}_url must be a str, got {type(url).__name__}")
        parts = {f"{kind}pb": _PARTS[kind](url=url) for kind, url in urls.items()}
        return Inputs._get_proto(input_id, dataset_id, **parts, **kwargs)

    @staticmethod
    @bad_input_as(UserError)
    def get_input_from_bytes(
        input_id: str,
        image_bytes: bytes | None = None,
        video_bytes: bytes | None = None,
        audio_bytes: bytes | None = None,
        text_bytes: bytes | None = None,
        dataset_id: str | None = None,
        **kwargs: Any,
    ) -> resources_pb2.Input:
        """An `Input` message carrying its content inline (built locally, nothing is sent).

        Args:
            input_id: The input's id.
            image_bytes: An image's bytes (one or more of the four must be given).
            video_bytes: A video's bytes.
            audio_bytes: An audio file's bytes.
            text_bytes: UTF-8 text.
            dataset_id: Add the input to this dataset when uploaded.
            **kwargs: `geo_info=[longitude, latitude]`, `labels=[...]` (concept names, each a positive
                concept), `label_ids=[...]` (their ids, one per label), `metadata={...}`.

        Returns:
            The `Input` message, ready for `upload_inputs`.

        Raises:
            UserError: No content was given, `text_bytes` is not UTF-8, or an argument has the wrong type.
        """
        given = {"image_bytes": image_bytes, "video_bytes": video_bytes, "audio_bytes": audio_bytes}
        given["text_bytes"] = text_bytes
        parts: dict[str, Any] = {}
        for kind, data in Inputs._sources("bytes", given).items():
            if not isinstance(data, (bytes, bytearray)):
                raise UserError(f"{kind}_bytes must be bytes, got {type(data).__name__}")
            if kind == "text":
                try:
                    parts["textpb"] = resources_pb2.Text(raw=bytes(data).decode())
                except UnicodeDecodeError:
                    raise UserError("text_bytes must be UTF-8 text") from None
            else:
                parts[f"{kind}pb"] = _PARTS[kind](base64=bytes(data))
        return Inputs._get_proto(input_id, dataset_id, **parts, **kwargs)

    @staticmethod
    @bad_input_as(UserError)
    def get_input_from_file(
        input_id: str,
        image_file: str | None = None,
        video_file: str | None = None,
        audio_file: str | None = None,
        text_file: str | None = None,
        dataset_id: str | None = None,
        **kwargs: Any,
    ) -> resources_pb2.Input:
        """An `Input` message with the content of local files (read now; nothing is sent).

        Args:
            input_id: The input's id.
            image_file: Path of an image (one or more of the four must be given).
            video_file: Path of a video.
            audio_file: Path of an audio file.
            text_file: Path of a UTF-8 text file.
            dataset_id: Add the input to this dataset when uploaded.
            **kwargs: `geo_info=[longitude, latitude]`, `labels=[...]` (concept names, each a positive
                concept), `label_ids=[...]` (their ids, one per label), `metadata={...}`.

        Returns:
            The `Input` message, ready for `upload_inputs`.

        Raises:
            UserError: No file was given, or a file cannot be read.
        """
        given = {
            "image_file": image_file,
            "video_file": video_file,
            "audio_file": audio_file,
            "text_file": text_file,
        }
        paths = Inputs._sources("file", given)
        contents = {f"{kind}_bytes": _read(path, f"{kind}_file") for kind, path in paths.items()}
        return Inputs.get_input_from_bytes(input_id, dataset_id=dataset_id, **contents, **kwargs)

    @staticmethod
    @bad_input_as(UserError)
    def get_text_input(
        input_id: str, raw_text: str, dataset_id: str | None = None, **kwargs: Any
    ) -> resources_pb2.Input:
        """A text `Input` message (built locally, nothing is sent).

        Args:
            input_id: The input's id.
            raw_text: The text.
            dataset_id: Add the input to this dataset when uploaded.
            **kwargs: `geo_info=[longitude, latitude]`, `labels=[...]` (concept names, each a positive
                concept), `label_ids=[...]` (their ids, one per label), `metadata={...}`.

        Returns:
            The `Input` message, ready for `upload_inputs`.

        Raises:
            UserError: `raw_text` is not a str, or `input_id` is empty.
        """
        if not isinstance(raw_text, str):
            raise UserError(f"raw_text must be a str, got {type(raw_text).__name__}")
        return Inputs._get_proto(input_id, dataset_id, textpb=resources_pb2.Text(raw=raw_text), **kwargs)

    @staticmethod
    @bad_input_as(UserError)
    def get_multimodal_input(
        input_id: str,
        raw_text: str | None = None,
        text_bytes: bytes | None = None,
        image_url: str | None = None,
        image_bytes: bytes | None = None,
        dataset_id: str | None = None,
        **kwargs: Any,
    ) -> resources_pb2.Input:
        """One input with both text and an image (the published client returned its error here)."""
        if (raw_text is None) == (text_bytes is None):
            raise UserError("get_multimodal_input needs exactly one of raw_text or text_bytes")
        if (image_url is None) == (image_bytes is None):
            raise UserError("get_multimodal_input needs exactly one of image_url or image_bytes")
        text = raw_text if raw_text is not None else bytes(text_bytes or b"").decode()
        image = (
            resources_pb2.Image(url=image_url)
            if image_url
            else resources_pb2.Image(base64=image_bytes or b"")
        )
        return Inputs._get_proto(
            input_id, dataset_id, imagepb=image, textpb=resources_pb2.Text(raw=text), **kwargs
        )

    @staticmethod
    def get_image_inputs_from_folder(
        folder_path: str, dataset_id: str | None = None, labels: bool = False
    ) -> list[resources_pb2.Input]:
        """One image input per image file; with labels, the folder's name is each input's concept."""
        return [
            Inputs.get_input_from_bytes(
                clean_input_id(path.name),
                image_bytes=path.read_bytes(),
                dataset_id=dataset_id,
                labels=[path.parent.name] if labels else None,
            )
            for path in _files(folder_path, _IMAGE_SUFFIXES)
        ]

    @staticmethod
    def get_text_inputs_from_folder(
        folder_path: str, dataset_id: str | None = None, labels: bool = False
    ) -> list[resources_pb2.Input]:
        """One text input per `.txt` file in `folder_path` (read now; nothing is sent).

        Args:
            folder_path: The folder to read.
            dataset_id: Add the inputs to this dataset when uploaded.
            labels: Label each input with its folder's name as a concept.

        Returns:
            The `Input` messages, ids derived from the file names.
        """
        return [
            Inputs.get_input_from_bytes(
                clean_input_id(path.name),
                text_bytes=path.read_bytes(),
                dataset_id=dataset_id,
                labels=[path.parent.name] if labels else None,
            )
            for path in _files(folder_path, {".txt"})
        ]

    @staticmethod
    def get_inputs_from_csv(
        csv_path: str,
        input_type: str = "text",
        csv_type: str = "raw",
        dataset_id: str | None = None,
        labels: bool = True,
    ) -> list[resources_pb2.Input]:
        """Inputs from a CSV with an `input` column (and `concepts`, `metadata`, `geopoints`, `inputid`).

        csv_type: raw (the text itself), url, or file_path. Concepts are comma-separated.
        """
        if input_type not in _KINDS:
            raise UserError(f"input_type must be one of {list(_KINDS)}, got {input_type!r}")
        if csv_type not in ("raw", "url", "file_path"):
            raise UserError(f"csv_type must be raw, url or file_path, got {csv_type!r}")
        if csv_type == "raw" and input_type != "text":
            raise UserError("csv_type='raw' works only with input_type='text'")
        rows = _csv_rows(csv_path)
        inputs = []
        for line, row in enumerate(rows, start=2):
            value = row.get("input")
            if value is None:
                raise UserError(f"{csv_path}: the header needs an 'input' column (line 1)")
            # Without an inputid column the id is derived from the row, so rerunning an upload of
            # the same file after a failure re-sends the same ids and duplicates nothing.
            input_id = (row.get("inputid") or "").strip() or _row_id(line, value)
            concepts = (
                [c.strip() for c in (row.get("concepts") or "").split(",") if c.strip()] if labels else None
            )
            extra: dict[str, Any] = {"labels": concepts, "dataset_id": dataset_id}
            if row.get("metadata"):
                extra["metadata"] = _json_cell(row["metadata"], csv_path, line)
            if row.get("geopoints"):
                extra["geo_info"] = _geo_cell(row["geopoints"], csv_path, line)
            if csv_type == "raw":
                inputs.append(Inputs.get_text_input(input_id, value, **extra))
            elif csv_type == "url":
                inputs.append(Inputs.get_input_from_url(input_id, **{f"{input_type}_url": value}, **extra))
            else:
                inputs.append(Inputs.get_input_from_file(input_id, **{f"{input_type}_file": value}, **extra))
        return inputs

    @staticmethod
    @bad_input_as(UserError)
    def get_bbox_proto(
        input_id: str,
        label: str,
        bbox: Sequence[float],
        label_id: str | None = None,
        annot_id: str | None = None,
    ) -> resources_pb2.Annotation:
        """An annotation with one box; bbox is [xmin, ymin, xmax, ymax] in relative coordinates."""
        if len(bbox) != 4:
            raise UserError(f"bbox must be [xmin, ymin, xmax, ymax], got {list(bbox)!r}")
        xmin, ymin, xmax, ymax = (float(v) for v in bbox)
        if not (0 <= xmin < xmax <= 1 and 0 <= ymin < ymax <= 1):
            raise UserError(
                f"bbox must satisfy 0 <= xmin < xmax <= 1 and 0 <= ymin < ymax <= 1, got {list(bbox)!r}"
            )
        region = resources_pb2.Region()
        box = region.region_info.bounding_box
        box.top_row, box.left_col, box.bottom_row, box.right_col = ymin, xmin, ymax, xmax
        region.data.concepts.add(id=label_id or label, name=label, value=1.0)
        annotation = resources_pb2.Annotation(input_id=input_id, id=annot_id or "")
        annotation.data.regions.append(region)
        return annotation

    @staticmethod
    @bad_input_as(UserError)
    def get_mask_proto(
        input_id: str,
        label: str,
        polygons: Sequence[Sequence[float]],
        label_id: str | None = None,
        annot_id: str | None = None,
    ) -> resources_pb2.Annotation:
        """An annotation with one polygon given as [[x, y], ...] points (relative coordinates)."""
        if len(polygons) < 3 or any(len(p) != 2 for p in polygons):
            raise UserError("polygons must be at least three [x, y] points")
        region = resources_pb2.Region()
        for x, y in polygons:
            region.region_info.polygon.points.add(
                row=float(y), col=float(x), visibility=resources_pb2.Point.VISIBLE
            )
        region.data.concepts.add(id=label_id or label, name=label, value=1.0)
        annotation = resources_pb2.Annotation(input_id=input_id, id=annot_id or "")
        annotation.data.regions.append(region)
        return annotation

    # -- uploads ------------------------------------------------------------------------------------

    def upload_inputs(self, inputs: Sequence[resources_pb2.Input], show_log: bool = True) -> str:
        """Upload up to 128 inputs in one call; returns the add-job id. When the API rejects any of
        them, raises `ApiClientError` whose `summary` lists the accepted and rejected ids."""
        if not inputs:
            raise UserError("upload_inputs needs at least one input")
        if len(inputs) > MAX_UPLOAD_BATCH_SIZE:
            raise UserError(
                f"upload_inputs takes at most {MAX_UPLOAD_BATCH_SIZE} inputs, got {len(inputs)}; "
                "use upload_inputs_bulk (or a Dataset upload) for more"
            )
        job_id = uuid.uuid4().hex
        items = to_messages(inputs, resources_pb2.Input, what="inputs")  # clarifai-grpc's ones too
        response = self._request("PostInputs", inputs=items, inputs_add_job_id=job_id)
        failed = _item_failures(response.inputs)
        if failed:
            # Never hand back a job id as if all were well: say which inputs the API refused.
            summary = UploadSummary(uploaded=[i.id for i in inputs if i.id not in failed], failed=failed)
            summary.job_ids.append(job_id)
            message = f"{len(failed)} of {len(inputs)} input(s) were rejected: {_sample(failed)}"
            raise attach_summary(ApiClientError(message), summary)
        if show_log:
            log.info("upload job %s accepted %d input(s)", job_id, len(inputs))
        return job_id

    def upload_from_url(
        self,
        input_id: str,
        image_url: str | None = None,
        video_url: str | None = None,
        audio_url: str | None = None,
        text_url: str | None = None,
        dataset_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Upload one input whose content the API fetches from URLs (see `get_input_from_url`).

        Returns:
            The add-job id.

        Raises:
            UserError: No URL was given, or an argument has the wrong type.
            ApiClientError: The API rejected the input (`err.summary` says why).
        """
        built = self.get_input_from_url(
            input_id, image_url, video_url, audio_url, text_url, dataset_id, **kwargs
        )
        return self.upload_inputs([built])

    def upload_from_file(
        self,
        input_id: str,
        image_file: str | None = None,
        video_file: str | None = None,
        audio_file: str | None = None,
        text_file: str | None = None,
        dataset_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Upload one input with the content of local files (see `get_input_from_file`).

        Returns:
            The add-job id.

        Raises:
            UserError: No file was given, or a file cannot be read.
            ApiClientError: The API rejected the input (`err.summary` says why).
        """
        built = self.get_input_from_file(
            input_id, image_file, video_file, audio_file, text_file, dataset_id, **kwargs
        )
        return self.upload_inputs([built])

    def upload_from_bytes(
        self,
        input_id: str,
        image_bytes: bytes | None = None,
        video_bytes: bytes | None = None,
        audio_bytes: bytes | None = None,
        text_bytes: bytes | None = None,
        dataset_id: str | None = None,
        **kwargs: Any,
    ) -> str:
        """Upload one input with inline content (see `get_input_from_bytes`).

        Returns:
            The add-job id.

        Raises:
            UserError: No content was given, or an argument has the wrong type.
            ApiClientError: The API rejected the input (`err.summary` says why).
        """
        built = self.get_input_from_bytes(
            input_id, image_bytes, video_bytes, audio_bytes, text_bytes, dataset_id, **kwargs
        )
        return self.upload_inputs([built])

    def upload_text(self, input_id: str, raw_text: str, dataset_id: str | None = None, **kwargs: Any) -> str:
        """Upload one text input (see `get_text_input`).

        Args:
            input_id: The input's id.
            raw_text: The text.
            dataset_id: Add the input to this dataset too.
            **kwargs: `labels=`, `label_ids=`, `metadata=`, `geo_info=`, as for `get_text_input`.

        Returns:
            The add-job id.

        Raises:
            UserError: `raw_text` is not a str, or `input_id` is empty.
            ApiClientError: The API rejected the input (`err.summary` says why).
        """
        return self.upload_inputs([self.get_text_input(input_id, raw_text, dataset_id, **kwargs)])

    def upload_inputs_bulk(
        self,
        inputs: Iterable[resources_pb2.Input],
        batch_size: int = MAX_UPLOAD_BATCH_SIZE,
        *,
        max_workers: int = 8,
        show_progress: bool | None = None,
        timeout: float = 1800.0,
    ) -> UploadSummary:
        """Upload any number of inputs: batches of <= 128 in parallel, each waited for and checked;
        inputs that failed processing are retried (up to 2 times) and then reported as failed.

        When a batch cannot be sent (the service is down, retries exhausted), no further batch
        starts and that error is raised with `err.summary`: every id uploaded, failed, unknown
        (may have landed) or not sent. Rerunning with the same inputs uploads only the rest."""
        items = _checked_inputs(inputs)
        if not is_int_at_least(batch_size, 1) or batch_size > MAX_UPLOAD_BATCH_SIZE:
            raise UserError(
                f"batch_size must be an int between 1 and {MAX_UPLOAD_BATCH_SIZE}, got {batch_size!r}"
            )
        if not is_int_at_least(max_workers, 1):
            raise UserError(f"max_workers must be a positive int, got {max_workers!r}")
        check_timeout(timeout)
        progress = Progress(len(items), "Uploading inputs", show_progress)
        try:
            summary = write_batches(
                lambda batch: self._upload_batch(batch, timeout),
                list(chunked(items, batch_size)),
                keys=lambda batch: [i.id for i in batch],
                new_summary=UploadSummary,
                max_workers=max_workers,
                progress=progress,
                operation="clarifai.Inputs.upload_inputs_bulk",
            )
        finally:
            progress.close()
        if summary.failed:
            log.warning("%d input(s) failed to upload: %s", len(summary.failed), _sample(summary.failed))
        return summary

    def _upload_batch(self, batch: list[resources_pb2.Input], timeout: float) -> UploadSummary:
        summary = UploadSummary()
        pending = batch
        try:
            for attempt in range(MAX_RETRIES + 1):
                pending = self._upload_attempt(pending, timeout, summary, last=attempt == MAX_RETRIES)
                if not pending:
                    break
        except ModelwireError as err:
            # What this batch did before the error is in `summary`; the rest was in flight.
            settled = {*summary.uploaded, *summary.failed, *summary.unknown}
            unsettled = [i.id for i in batch if i.id not in settled]
            account_failed_batch(summary, unsettled, err)
            raise attach_summary(err, summary) from None
        return summary

    def _upload_attempt(
        self, pending: list[resources_pb2.Input], timeout: float, summary: UploadSummary, *, last: bool
    ) -> list[resources_pb2.Input]:
        """One PostInputs of `pending`, waited for; returns the inputs to send again."""
        job_id = uuid.uuid4().hex
        response = self._request("PostInputs", inputs=pending, inputs_add_job_id=job_id)
        summary.job_ids.append(job_id)
        rejected = _item_failures(response.inputs)
        duplicates = {k for k, v in rejected.items() if _is_duplicate(v)}
        accepted = [i.id for i in pending if i.id not in rejected]
        try:
            retry = self._wait_and_check(job_id, accepted, timeout) if accepted else {}
            # A duplicate id is ours when an earlier attempt (or run) stored it: check its state.
            retry.update(self._check_existing(duplicates))
        except ModelwireError as err:
            # Stored by PostInputs, but whether they processed could not be read.
            summary.mark([*accepted, *duplicates], failure_reason(err), landed_maybe=True)
            raise
        for input_id, reason in rejected.items():
            if input_id not in duplicates:
                summary.failed[input_id] = reason
        summary.uploaded += [i.id for i in pending if i.id not in summary.failed and i.id not in retry]
        if not retry:
            return []
        # A failed input is removed before it is sent again, and after the last attempt, so the
        # app keeps only inputs that processed; the summary reports the rest.
        self._request("DeleteInputs", ids=list(retry))
        if last:
            summary.failed.update(retry)
            return []
        return [i for i in pending if i.id in retry]

    def _wait_and_check(self, job_id: str, ids: list[str], timeout: float) -> dict[str, str]:
        """Wait for the add-job; return {id: reason} for inputs that did not process."""
        deadline = time.monotonic() + timeout
        delay = 0.1  # an add-job never finishes at once: polling sooner only adds calls
        while True:
            time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
            try:
                job = self._request("GetInputsAddJob", id=job_id).inputs_add_job
            except CoreApiError as err:
                # The job's state is only a shortcut: the inputs themselves say whether they landed.
                log.info(
                    "add-job %s could not be read (%s); checking its inputs instead", job_id, err.code.name
                )
                return self._settle(ids, deadline)
            progress = job.progress
            if progress.pending_count == 0 and progress.in_progress_count == 0:
                break
            if time.monotonic() >= deadline:
                self._request("CancelInputsAddJob", id=job_id)
                return {i: f"input add job {job_id} did not finish within {timeout:.0f}s" for i in ids}
            delay = min(delay * 2, 1.0)
        if progress.failed_count == 0 and progress.success_count >= len(ids):
            return {}
        return self._check_existing(set(ids))

    def _settle(self, ids: list[str], deadline: float) -> dict[str, str]:
        """Wait until none of `ids` is still processing; {id: reason} for those that failed."""
        delay = 0.1
        while True:
            response = self._request("ListInputs", ids=sorted(ids), per_page=len(ids))
            if not any(i.status.code in _PENDING for i in response.inputs) or time.monotonic() >= deadline:
                return self._failures_of(set(ids), response.inputs)
            time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
            delay = min(delay * 2, 1.0)

    def _check_existing(self, ids: set[str]) -> dict[str, str]:
        """{id: reason} for those of `ids` whose stored input did not process successfully."""
        if not ids:
            return {}
        response = self._request("ListInputs", ids=sorted(ids), per_page=len(ids))
        return self._failures_of(ids, response.inputs)

    @staticmethod
    def _failures_of(ids: set[str], stored: Sequence[resources_pb2.Input]) -> dict[str, str]:
        found = {i.id: i for i in stored}
        failures = {i: "the input was not stored" for i in ids if i not in found}
        for input_id, item in found.items():
            if item.status.code != INPUT_SUCCESS:
                failures[input_id] = _reason(item.status)
        return failures

    def upload_annotations(
        self, batch_annot: Sequence[resources_pb2.Annotation], show_log: bool = True
    ) -> list[resources_pb2.Annotation]:
        """Upload annotations; returns those that failed (empty when all succeeded)."""
        if not batch_annot:
            return []
        annotations = to_messages(batch_annot, resources_pb2.Annotation, what="batch_annot")
        try:
            response = self._request("PostAnnotations", annotations=annotations)
        except ApiError as exc:
            log.warning("annotation upload failed: %s", exc)
            return list(batch_annot)
        failed = [
            sent
            for sent, got in zip(batch_annot, response.annotations, strict=False)
            if got.status.code not in (0, status_code_pb2.ANNOTATION_SUCCESS, status_code_pb2.SUCCESS)
        ]
        if failed:
            log.warning("%d of %d annotation(s) failed", len(failed), len(batch_annot))
        elif show_log:
            log.info("uploaded %d annotation(s)", len(batch_annot))
        return failed

    # -- listing and deleting --------------------------------------------------------------------------

    def list_inputs(
        self,
        dataset_id: str | None = None,
        page_no: int | None = None,
        per_page: int | None = None,
        input_type: str | None = None,
    ) -> Iterator[resources_pb2.Input]:
        """The app's (or a dataset's) inputs, newest first, lazily; `input_type` keeps one kind."""
        if input_type is not None and input_type not in _KINDS:
            raise UserError(f"input_type must be one of {list(_KINDS)}, got {input_type!r}")
        if dataset_id:
            items = self._list(
                "ListDatasetInputs",
                lambda d: d.input,
                page_no=page_no,
                per_page=per_page,
                items_field="dataset_inputs",
                dataset_id=dataset_id,
            )
        else:
            items = self._list("ListInputs", page_no=page_no, per_page=per_page, items_field="inputs")
        if input_type is None:
            return items
        return (i for i in items if i.data.HasField(input_type))

    def list_annotations(
        self,
        batch_input: Sequence[resources_pb2.Input] | None = None,
        page_no: int | None = None,
        per_page: int | None = None,
    ) -> Iterator[resources_pb2.Annotation]:
        """The app's annotations (or those of `batch_input`), fetched lazily page by page.

        Args:
            batch_input: Only the annotations of these inputs (all inputs when None).
            page_no: Fetch only this page (1-based); None lists every page.
            per_page: Annotations per call (the API's default 128, at most 1000).

        Returns:
            An iterator of `Annotation` messages.
        """
        fields: dict[str, Any] = {"list_all_annotations": True}
        if batch_input:
            fields["input_ids"] = [i.id for i in batch_input]
        return self._list(
            "ListAnnotations", page_no=page_no, per_page=per_page, items_field="annotations", **fields
        )

    def delete_inputs(self, inputs: Iterable[resources_pb2.Input | str]) -> None:
        """Delete inputs (DeleteInputs), by `Input` message or id, 1000 per call.

        Raises:
            ApiError: The call failed.
        """
        ids = [i if isinstance(i, str) else i.id for i in inputs]
        for batch in chunked(ids, 1000):
            self._request("DeleteInputs", ids=batch)

    # -- one input, patches, annotations by id ----------------------------------------------------------

    def get_input(self, input_id: str) -> resources_pb2.Input:
        """The input `input_id` (GetInput); an ApiError (a NotFoundError) when the app has none."""
        response = self._request("GetInput", input_id=check_id(input_id, "input_id"))
        item: resources_pb2.Input = response.input
        return item

    def patch_inputs(self, inputs: Sequence[resources_pb2.Input], action: str = "merge") -> None:
        """Patch inputs' labels and metadata (PatchInputs, 128 a call): each Input names its `id`
        and carries the `data` to merge, overwrite or remove. Items the API refuses raise one
        ApiError naming them."""
        items = to_messages(inputs, resources_pb2.Input, what="inputs")  # clarifai-grpc's ones too
        self._patch("PatchInputs", items, action, "inputs")

    def patch_annotations(
        self, batch_annot: Sequence[resources_pb2.Annotation], action: str = "merge"
    ) -> None:
        """Patch annotations (PatchAnnotations, 128 a call), each named by its `id`."""
        items = to_messages(batch_annot, resources_pb2.Annotation, what="batch_annot")
        self._patch("PatchAnnotations", items, action, "annotations")

    def _patch(self, name: str, items: list[Any], action: str, field: str) -> None:
        check_action(action, ACTIONS, name)
        if not items or not all(i.id for i in items):
            raise UserError(f"{name} needs at least one item, and an id on each (it names what to patch)")
        for batch in chunked(items, MAX_UPLOAD_BATCH_SIZE):
            fields: dict[str, Any] = {field: batch, "action": action}
            response = self._request(name, **fields)
            raise_for_item_failures(name, response, getattr(response, field), lambda item: str(item.id))

    def patch_concepts(
        self,
        concept_ids: Sequence[str],
        labels: Sequence[str] = (),
        values: Sequence[float] = (),
        action: str = "overwrite",
    ) -> None:
        """Rename concepts of the app (PatchConcepts; "overwrite", the one action the API takes
        for concepts): `labels` are the new names (the ids when not given), `values` optional."""
        ids = check_ids(concept_ids, "concept_ids")
        names = check_ids(labels, "labels")
        same_length("labels", names, "concept id", ids)
        if isinstance(values, (str, bytes)) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            raise UserError(f"values must be a list of numbers, got {values!r}")
        same_length("values", list(values), "concept id", ids)
        check_action(action, (OVERWRITE,), "patch_concepts")
        if not ids:
            raise UserError("patch_concepts needs at least one concept id")
        concepts = [
            resources_pb2.Concept(id=i, name=n, value=float(v))
            for i, n, v in zip(ids, names or ids, list(values) or [1.0] * len(ids), strict=True)
        ]
        self._request("PatchConcepts", concepts=concepts, action=action)

    def delete_annotations(self, input_ids: Sequence[str], annotation_ids: Sequence[str] = ()) -> None:
        """Delete annotations (DeleteAnnotations): every annotation of `input_ids`, or with
        `annotation_ids`, those annotations (one input id per annotation id, in the same order)."""
        inputs = check_ids(input_ids, "input_ids")
        annotations = check_ids(annotation_ids, "annotation_ids")
        if not inputs:
            raise UserError("delete_annotations needs at least one input id")
        if annotations and len(annotations) != len(inputs):
            raise UserError(
                f"annotation_ids and input_ids must pair up (one input id per annotation id): got "
                f"{len(annotations)} annotation id(s) and {len(inputs)} input id(s)"
            )
        self._request("DeleteAnnotations", ids=annotations, input_ids=inputs)

    def download_inputs(self, inputs: Iterable[resources_pb2.Input]) -> list[bytes]:
        """The content of each input: its bytes, its raw text, or what its URL serves."""
        return [self._content(item) for item in inputs]

    def _content(self, item: resources_pb2.Input, trust_hosted: bool = True) -> bytes:
        """The input's bytes. Its hosted copy is preferred: the API names that URL, so it may get
        the credential (unless `trust_hosted` is False: an archive not from the API); `data.url`
        comes from whoever created the input and is fetched without it."""
        from modelwire.clarifai._download import fetch  # lazy: urllib.request, http.client

        for kind in _KINDS:
            if not item.data.HasField(kind):  # type: ignore[arg-type]
                continue
            part = getattr(item.data, kind)
            if kind == "text" and part.raw:
                return str(part.raw).encode()
            if part.base64:
                return bytes(part.base64)
            if part.hosted.prefix and part.hosted.suffix:
                hosted = f"{part.hosted.prefix.rstrip('/')}/orig/{part.hosted.suffix}"
                return fetch(hosted, self._conn, source="api" if trust_hosted else "input")
            if part.url:
                return fetch(part.url, self._conn, source="input")
        raise ApiClientError(f"input {item.id!r} has no content to download")


def _checked_inputs(inputs: Iterable[resources_pb2.Input]) -> list[resources_pb2.Input]:
    """The inputs as a list, each an Input with a unique id (retries and reruns rely on ids)."""
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Iterable):
        raise UserError(
            f"inputs must be a list of Input messages (Inputs.get_text_input), got {type(inputs).__name__}"
        )
    items = list(inputs)
    wrong = next((i for i in items if not of_type(i, resources_pb2.Input)), None)
    if wrong is not None:
        raise UserError(
            f"inputs must be Input messages (built with Inputs.get_*_input), got a {type(wrong).__name__}"
        )
    items = to_messages(items, resources_pb2.Input, what="inputs")  # clarifai-grpc's ones too
    ids = [i.id for i in items]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        raise UserError("bulk uploads need a unique, non-empty id on every input (retries rely on it)")
    return items


def _files(folder: str, suffixes: set[str]) -> list[Path]:
    root = Path(folder)
    if not root.is_dir():
        raise UserError(f"folder_path {folder!r} is not a directory")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def _csv_rows(path: str) -> list[dict[str, str]]:
    """The rows of a UTF-8 CSV; what is wrong with the file as a UserError (with the line)."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            try:
                return list(reader)
            except csv.Error as exc:  # e.g. a cell over the csv module's field size limit
                raise UserError(f"{path}:{reader.line_num}: not a valid CSV row: {exc}") from None
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); save the CSV as UTF-8"
        ) from None
    except OSError as exc:
        raise UserError(f"cannot read csv {path!r}: {exc.strerror or exc}") from None


def _row_id(line: int, value: str) -> str:
    return hashlib.sha1(f"{line}\x00{value}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _geo_cell(text: str, path: str, line: int) -> list[float]:
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise UserError(f"{path}:{line}: geopoints must be 'longitude,latitude', got {text!r}") from None


def _json_cell(text: str, path: str, line: int) -> dict[str, Any]:
    import json

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{line}: metadata is not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise UserError(f"{path}:{line}: metadata must be a JSON object")
    return value


def _reason(status: Any) -> str:
    """A status as a sentence: description, then details when there are any."""
    text = status.description or f"status {status.code}"
    return f"{text}: {status.details}" if status.details else text


def _item_failures(items: Sequence[resources_pb2.Input]) -> dict[str, str]:
    accepted = {0, status_code_pb2.SUCCESS, INPUT_SUCCESS, *_PENDING}
    return {item.id: _reason(item.status) for item in items if item.status.code not in accepted}


def _is_duplicate(reason: str) -> bool:
    return "duplicate" in reason.lower()


def _sample(failures: dict[str, str]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in list(failures.items())[:5]) + (
        " ..." if len(failures) > 5 else ""
    )
