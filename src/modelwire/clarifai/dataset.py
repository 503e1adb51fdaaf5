"""`Dataset`: versions, uploads (from a ClarifaiDataLoader, a CSV or a folder), upload status, export.

Exports read the CLARIFAI_DATA_PROTOBUF archive (a zip: a `mimetype` member, then serialized
`InputBatch` members) and write the inputs' content as `{split}/{input_type}/{input_id}.{ext}`.
Archive member names are never used as paths and input ids are sanitised, so a hostile archive
cannot write outside the target (zip-slip); a malformed archive gets an error saying what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import time
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, overload, runtime_checkable

from google.protobuf import json_format, message

from modelwire._core.batching import Chunker
from modelwire._core.errors import ModelwireError
from modelwire._core.polling import poll
from modelwire._core.writes import account_failed_batch, attach_summary
from modelwire._gen.clarifai.api import resources_pb2, service_pb2
from modelwire._gen.clarifai.api.status import status_code_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.clarifai._auth import parse_clarifai_url
from modelwire.clarifai._base import BaseClient, client_options
from modelwire.clarifai._patching import check_id
from modelwire.clarifai._proto import from_kwargs
from modelwire.clarifai.errors import ApiClientError, UserError
from modelwire.clarifai.inputs import MAX_UPLOAD_BATCH_SIZE, Inputs, UploadSummary

log = logging.getLogger("modelwire.clarifai")

ARCHIVE_MIMETYPE = b"application/x.clarifai-data+protobuf"
# What get_upload_status(pre_upload=True) returns: (inputs by type, annotation counts).
UploadStats = tuple[dict[str, int], dict[str, int]]
TASKS = (
    "visual_classification",
    "text_classification",
    "visual_detection",
    "visual_segmentation",
    "visual_captioning",
    "multimodal_dataset",
)
_EXPORT_PENDING = {
    status_code_pb2.DATASET_VERSION_EXPORT_PENDING,
    status_code_pb2.DATASET_VERSION_EXPORT_IN_PROGRESS,
}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSIONS = {"image": "jpg", "video": "mp4", "audio": "mp3", "text": "txt"}


@dataclass
class Features:
    """One item of a ClarifaiDataLoader. Which fields matter depends on the loader's `task`."""

    image_path: str | None = None
    image_bytes: bytes | None = None
    text: str | None = None
    labels: list[str] = field(default_factory=list)
    label_ids: list[str] | None = None
    bboxes: list[list[float]] = field(default_factory=list)
    polygons: list[list[list[float]]] = field(default_factory=list)
    geo_info: list[float] | None = None
    id: str | None = None
    metadata: dict[str, Any] | None = None


@runtime_checkable
class ClarifaiDataLoader(Protocol):
    """What `upload_dataset` reads: a `task` (one of TASKS), `len()`, and items by index."""

    @property
    def task(self) -> str:
        """The task the items are for: one of `TASKS` (e.g. "text_classification")."""
        ...

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


class Dataset(BaseClient):
    """`Dataset(url="https://clarifai.com/{user}/{app}/datasets/{id}")` or by ids.

    `Dataset()` without ids is enough to export a local archive
    (`Dataset().export(save_path=..., local_archive_path=...)`, as published); calls to the API
    then ask for the ids they need.
    """

    _user_id_optional = True

    def __init__(
        self,
        url: str = "",
        dataset_id: str = "",
        base_url: str | None = None,
        pat: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> None:
        user_id, app_id = kwargs.pop("user_id", None), kwargs.pop("app_id", "")
        version_id = kwargs.pop("dataset_version_id", "")
        if url:
            parsed = parse_clarifai_url(url, "datasets")
            user_id, app_id = parsed["user_id"], parsed["app_id"]
            dataset_id = parsed.get("resource_id", dataset_id)
            version_id = parsed.get("version_id", version_id)
        info = kwargs.pop("dataset_info", None)
        options = client_options(kwargs)
        super().__init__(
            user_id=user_id,
            app_id=app_id,
            base_url=base_url,
            pat=pat,
            token=token,
            **options,
        )
        self.id = dataset_id
        self.dataset_info: resources_pb2.Dataset = info or from_kwargs(
            resources_pb2.Dataset, {"id": dataset_id, **kwargs}, what="Dataset"
        )
        self.version_id = version_id or self.dataset_info.version.id
        self._inputs = self._derive(Inputs, app_id=self.app_id)
        self._export_urls: set[str] = set()  # URLs the API gave for exports: they may get the key

    def close(self) -> None:
        """Release the connection (shared with the objects made from this one, it closes with the last)."""
        self._inputs.close()
        super().close()

    def _require_ids(self, what: str) -> None:
        """Everything but a local export is scoped to this dataset: say what is missing before
        sending anything (an upload without a dataset id would land outside the dataset)."""
        missing = [
            n
            for n, v in (("dataset_id", self.id), ("app_id", self.app_id), ("user_id", self.user_id))
            if not v
        ]
        if missing:
            raise UserError(
                f"{what} needs {', '.join(missing)}: make the Dataset with dataset_id=, app_id= "
                "and user_id= (or url='https://clarifai.com/<user>/<app>/datasets/<id>')"
            )

    def _grpc_request(self, name: str, request: message.Message) -> Any:
        self._require_ids(name)
        return super()._grpc_request(name, request)

    def __repr__(self) -> str:
        version = f", version_id={self.version_id!r}" if self.version_id else ""
        return f"Dataset(id={self.id!r}, app_id={self.app_id!r}, user_id={self.user_id!r}{version})"

    @property
    def version(self) -> resources_pb2.DatasetVersion:
        """This dataset's version, as published (`dataset.version.id`; empty when none is chosen):
        the items of `list_versions()` and `create_version()` carry theirs."""
        return self.dataset_info.version

    # -- versions -------------------------------------------------------------------------------------

    def _versioned(self, version: resources_pb2.DatasetVersion) -> Dataset:
        info = resources_pb2.Dataset()
        info.CopyFrom(self.dataset_info)
        info.version.CopyFrom(version)
        return self._derive(Dataset, app_id=self.app_id, dataset_id=self.id, dataset_info=info)

    def create_version(self, **kwargs: Any) -> Dataset:
        """A new version (a snapshot of the dataset's inputs); kwargs: description, metadata, ..."""
        version = from_kwargs(resources_pb2.DatasetVersion, kwargs, what="create_version")
        response = self._request("PostDatasetVersions", dataset_id=self.id, dataset_versions=[version])
        return self._versioned(response.dataset_versions[0])

    def delete_version(self, version_id: str) -> None:
        """Delete one version of this dataset (DeleteDatasetVersions).

        Args:
            version_id: The version's id.

        Raises:
            UserError: The Dataset has no dataset, app or user id.
            ApiError: No such version, or the call failed.
        """
        self._request("DeleteDatasetVersions", dataset_id=self.id, dataset_version_ids=[version_id])

    def list_versions(self, page_no: int | None = None, per_page: int | None = None) -> Iterator[Dataset]:
        """The dataset's versions, fetched lazily page by page.

        Args:
            page_no: Fetch only this page (1-based); None lists every page.
            per_page: Versions per call (the API's default 128, at most 1000).

        Returns:
            An iterator of `Dataset`, each pinned to one version (`.version.id`).
        """
        return self._list(
            "ListDatasetVersions",
            self._versioned,
            page_no=page_no,
            per_page=per_page,
            items_field="dataset_versions",
            dataset_id=self.id,
        )

    def merge_dataset(self, merge_dataset_id: str) -> None:
        """Add every input of dataset `merge_dataset_id` (of the same app) to this dataset
        (PostDatasetInputs with a search for its inputs, as published); inputs already here stay."""
        other = check_id(merge_dataset_id, "merge_dataset_id")
        query = resources_pb2.Query()
        query.filters.add().input.dataset_ids.append(other)
        self._request("PostDatasetInputs", dataset_id=self.id, search=resources_pb2.Search(query=query))

    # -- uploads --------------------------------------------------------------------------------------

    def upload_dataset(
        self,
        dataloader: ClarifaiDataLoader,
        batch_size: int = 32,
        get_upload_status: bool = False,
        log_warnings: bool = False,
        show_progress: bool | None = None,
    ) -> UploadSummary:
        """Upload every item of `dataloader` (inputs, then boxes/polygons as annotations)."""
        self._require_ids("upload_dataset")
        task = getattr(dataloader, "task", None)
        if task not in TASKS:
            raise UserError(f"dataloader.task must be one of {list(TASKS)}, got {task!r}")
        inputs, annotations = [], []
        for index in range(len(dataloader)):
            built, annots = self._from_features(task, dataloader[index], index)
            inputs.append(built)
            annotations += annots
        # As published: counts before the upload, so the status after it shows what was added.
        before = self.get_upload_status(delete_version=True, pre_upload=True) if get_upload_status else None
        try:
            summary = self._inputs.upload_inputs_bulk(
                inputs, min(batch_size, MAX_UPLOAD_BATCH_SIZE), show_progress=show_progress
            )
        except ModelwireError as err:
            if err.summary is not None:  # the boxes/polygons of inputs that landed were not sent
                keys = [f"annotation:{a.input_id}" for a in annotations]
                err.summary.mark(keys, "not sent: the input upload stopped", landed_maybe=False)
            raise
        uploaded = set(summary.uploaded)
        ready = [a for a in annotations if a.input_id in uploaded]
        for number, batch in enumerate(Chunker(ready, MAX_UPLOAD_BATCH_SIZE).chunk()):
            try:
                rejected = self._inputs.upload_annotations(batch, show_log=False)
            except ModelwireError as err:  # the inputs landed; say which annotations did not
                rest = ready[number * MAX_UPLOAD_BATCH_SIZE :]
                account_failed_batch(summary, [f"annotation:{a.input_id}" for a in rest], err)
                raise attach_summary(err, summary) from None
            for failed in rejected:
                summary.failed[f"annotation:{failed.input_id}"] = "annotation upload failed"
        if log_warnings and summary.failed:
            path = Path(f"upload_failures_{self.id}_{int(time.time())}.log")
            path.write_text("".join(f"{k}\t{v}\n" for k, v in summary.failed.items()))
            log.warning("wrote %d upload failure(s) to %s", len(summary.failed), path)
        if get_upload_status:
            status = self.get_upload_status(dataloader, delete_version=True, pre_upload_stats=before)
            log.info("upload status: %s", status)
        return summary

    def _from_features(self, task: str, item: Any, index: int) -> tuple[resources_pb2.Input, list[Any]]:
        """The input (and annotations) for one loader item."""
        input_id = f"{self.id}-{getattr(item, 'id', None) or uuid.uuid4().hex[:8]}"
        labels = list(getattr(item, "labels", None) or [])
        extra: dict[str, Any] = {
            "dataset_id": self.id,
            "geo_info": getattr(item, "geo_info", None),
            "metadata": getattr(item, "metadata", None),
        }
        text = getattr(item, "text", None)
        if task == "text_classification":
            if not isinstance(text, str):
                raise UserError(f"dataloader[{index}]: text_classification items need a `text` str")
            return self._inputs.get_text_input(
                input_id, text, labels=labels, label_ids=item.label_ids, **extra
            ), []
        image = getattr(item, "image_bytes", None)
        if image is None and getattr(item, "image_path", None):
            image = Path(item.image_path).read_bytes()
        if image is None:
            raise UserError(f"dataloader[{index}]: {task} items need image_bytes or image_path")
        if task in ("multimodal_dataset", "visual_captioning") and text:
            built = self._inputs.get_multimodal_input(input_id, raw_text=text, image_bytes=image, **extra)
            return built, []
        if task == "visual_classification":
            built = self._inputs.get_input_from_bytes(
                input_id,
                image_bytes=image,
                labels=labels,
                label_ids=getattr(item, "label_ids", None),
                **extra,
            )
            return built, []
        built = self._inputs.get_input_from_bytes(input_id, image_bytes=image, **extra)
        shapes = getattr(item, "bboxes" if task == "visual_detection" else "polygons", None) or []
        if len(shapes) != len(labels):
            shape = "box" if task == "visual_detection" else "polygon"
            raise UserError(
                f"dataloader[{index}]: need one label per {shape} (labels and shapes differ in length)"
            )
        maker = Inputs.get_bbox_proto if task == "visual_detection" else Inputs.get_mask_proto
        return built, [maker(input_id, label, shape) for label, shape in zip(labels, shapes, strict=True)]

    def upload_from_csv(
        self,
        csv_path: str = "",
        input_type: str = "text",
        csv_type: str = "raw",
        labels: bool = True,
        batch_size: int = MAX_UPLOAD_BATCH_SIZE,
        show_progress: bool | None = None,
    ) -> UploadSummary:
        """Upload the rows of a CSV into this dataset (see `Inputs.get_inputs_from_csv` for the columns).

        Rows without an `inputid` get an id derived from the row, so rerunning after a failure uploads
        only what is missing, without duplicates.

        Args:
            csv_path: The CSV file; its header needs an `input` column.
            input_type: "text", "image", "video" or "audio".
            csv_type: "raw" (the text itself), "url" or "file_path".
            labels: Read the `concepts` column as labels.
            batch_size: Inputs per call (at most 128).
            show_progress: Show a progress bar (default: only on a terminal).

        Returns:
            The `UploadSummary`: every id uploaded, failed (with the reason) or unknown.

        Raises:
            UserError: The CSV or an argument is malformed, or the Dataset lacks its ids.
            ModelwireError: The upload stopped on an error; `err.summary` accounts for every input.
        """
        self._require_ids("upload_from_csv")
        inputs = self._inputs.get_inputs_from_csv(
            csv_path, input_type, csv_type, dataset_id=self.id, labels=labels
        )
        return self._inputs.upload_inputs_bulk(inputs, batch_size, show_progress=show_progress)

    def upload_from_folder(
        self,
        folder_path: str,
        input_type: str,
        labels: bool = False,
        batch_size: int = MAX_UPLOAD_BATCH_SIZE,
        show_progress: bool | None = None,
    ) -> UploadSummary:
        """Upload every image (or `.txt` file) of a folder into this dataset.

        Args:
            folder_path: The folder to read.
            input_type: "image" or "text".
            labels: Label each input with its folder's name as a concept.
            batch_size: Inputs per call (at most 128).
            show_progress: Show a progress bar (default: only on a terminal).

        Returns:
            The `UploadSummary`: every id uploaded, failed (with the reason) or unknown.

        Raises:
            UserError: `input_type` is neither "image" nor "text", or the Dataset lacks its ids.
            ModelwireError: The upload stopped on an error; `err.summary` accounts for every input.
        """
        self._require_ids("upload_from_folder")
        if input_type not in ("image", "text"):
            raise UserError(f"input_type must be 'image' or 'text', got {input_type!r}")
        build = (
            self._inputs.get_image_inputs_from_folder
            if input_type == "image"
            else self._inputs.get_text_inputs_from_folder
        )
        return self._inputs.upload_inputs_bulk(
            build(folder_path, dataset_id=self.id, labels=labels), batch_size, show_progress=show_progress
        )

    @overload
    def get_upload_status(
        self,
        dataloader: ClarifaiDataLoader | None = None,
        delete_version: bool = False,
        timeout: int = 600,
        pre_upload_stats: UploadStats | None = None,
        pre_upload: Literal[False] = False,
    ) -> dict[str, Any]: ...

    @overload
    def get_upload_status(
        self,
        dataloader: ClarifaiDataLoader | None = None,
        delete_version: bool = False,
        timeout: int = 600,
        pre_upload_stats: UploadStats | None = None,
        *,
        pre_upload: Literal[True],
    ) -> UploadStats: ...

    def get_upload_status(
        self,
        dataloader: ClarifaiDataLoader | None = None,
        delete_version: bool = False,
        timeout: int = 600,
        pre_upload_stats: UploadStats | None = None,
        pre_upload: bool = False,
    ) -> dict[str, Any] | UploadStats:
        """The dataset's counts, from a new dataset version.

        With `pre_upload=True`, as published: `(inputs, annotations)`, the inputs by type and the
        annotation counts (`concepts`, `bboxes`, `polygons`); take it before an upload and pass
        it back after as `pre_upload_stats=` to see what the upload added. Otherwise a dict:
        `inputs` and `annotations` as above, `INPUT_TYPE` and `CONCEPT_ID` (inputs per type and per
        concept), `version_id`, and, when given, `uploaded_inputs` / `uploaded_annotations` (the
        counts minus `pre_upload_stats`) and `expected_inputs` (the dataloader's length)."""
        before = _check_pre_upload_stats(pre_upload_stats)
        version = self.create_version(description="SDK Upload Status")
        ready = version.dataset_info.version.status.code == status_code_pb2.DATASET_VERSION_READY

        def groups() -> list[Any]:
            response = self._request(
                "ListDatasetVersionMetricsGroups", dataset_id=self.id, dataset_version_id=version.version_id
            )
            return list(response.dataset_version_metrics_groups)

        try:
            # Metrics appear once the version is processed (a ready version's are final, even
            # when empty); past the timeout, report what there is.
            groups_found = poll(
                groups,
                lambda found: ready or bool(found),
                timeout=timeout,
                on_timeout=lambda last, _: _Partial(last),
            )
        except _Partial as partial:
            groups_found = partial.groups
        finally:
            if delete_version:
                self.delete_version(version.version_id)
        inputs, annotations = version_stats(groups_found)
        if pre_upload:
            return inputs, annotations
        stats: dict[str, Any] = {
            "version_id": version.version_id,
            "inputs": inputs,
            "annotations": annotations,
        }
        for group in groups_found:
            kind = resources_pb2.DatasetVersionMetricsGroupType.Name(group.type)
            stats.setdefault(kind, {})[_group_key(group.value)] = int(group.metrics.inputs_count.value)
        if before is not None:
            stats["uploaded_inputs"] = {k: v - before[0].get(k, 0) for k, v in inputs.items()}
            stats["uploaded_annotations"] = {k: v - before[1].get(k, 0) for k, v in annotations.items()}
        if dataloader is not None:
            stats["expected_inputs"] = len(dataloader)
        return stats

    # -- export -----------------------------------------------------------------------------------------

    def archive_zip(self, wait: bool = True, timeout: float = 600.0) -> str:
        """Ask for this version's CLARIFAI_DATA_PROTOBUF archive; its URL once ready."""
        version_id = self.version_id or self.create_version(description="export").version_id
        export = resources_pb2.DatasetVersionExport(format=resources_pb2.CLARIFAI_DATA_PROTOBUF)

        def put() -> resources_pb2.DatasetVersionExport:
            response: service_pb2.MultiDatasetVersionExportResponse = self._request(
                "PutDatasetVersionExports",
                dataset_id=self.id,
                dataset_version_id=version_id,
                exports=[export],
            )
            return response.exports[0]

        done = poll(
            put,
            lambda result: not wait or result.status.code not in _EXPORT_PENDING,
            timeout=timeout,
            on_timeout=lambda _, waited: ApiClientError(
                f"the export of dataset {self.id} did not finish within {waited:.0f}s"
            ),
        )
        if done.status.code != status_code_pb2.DATASET_VERSION_EXPORT_SUCCESS:
            raise ApiClientError(f"the export failed: {done.status.description or done.status.code}")
        self._export_urls.add(done.url)
        return str(done.url)

    def export(
        self,
        save_path: str,
        archive_url: str = "",
        local_archive_path: str = "",
        split: str = "all",
        num_workers: int = 4,
    ) -> Path:
        """Write the dataset's inputs to `save_path` (a .zip file, or a directory)."""
        if not save_path:
            raise UserError("export needs save_path (a .zip file or a directory)")
        if local_archive_path:
            try:
                raw = Path(local_archive_path).read_bytes()
            except OSError as exc:
                raise UserError(f"cannot read local_archive_path {local_archive_path!r}: {exc}") from None
        else:
            from modelwire.clarifai._download import fetch  # lazy: urllib.request, http.client

            url = archive_url or self.archive_zip()
            raw = fetch(url, self._conn, source="api" if url in self._export_urls else "caller")
        inputs = read_archive(raw)
        # Hosted prefixes in an archive the API did not just give us are not trusted with the key.
        from_api = not local_archive_path and (not archive_url or archive_url in self._export_urls)
        safe_split = _safe(split) or "all"
        with ThreadPoolExecutor(max_workers=max(1, num_workers)) as pool:
            contents = list(pool.map(lambda i: self._inputs._content(i, trust_hosted=from_api), inputs))
        names = _unique_names(inputs)
        entries = [
            (f"{safe_split}/{_kind(i)}/{name}.{_EXTENSIONS[_kind(i)]}", c)
            for i, name, c in zip(inputs, names, contents, strict=True)
        ]
        return _write_export(Path(save_path), entries)


def version_stats(groups: Sequence[resources_pb2.DatasetVersionMetricsGroup]) -> UploadStats:
    """(inputs by type, annotation counts) from a version's metrics groups, read as the published
    SDK reads them: string-valued groups other than concepts count inputs; each concept group
    adds its positive tags, boxes and polygons."""
    inputs: dict[str, int] = {}
    annotations = {"concepts": 0, "bboxes": 0, "polygons": 0}
    for group in groups:
        if group.value.WhichOneof("kind") != "string_value":
            continue
        metrics = group.metrics
        if group.type == resources_pb2.CONCEPT_ID:
            annotations["concepts"] += int(metrics.positive_input_tags_count.value)
            annotations["bboxes"] += int(metrics.bounding_boxes_count.value)
            annotations["polygons"] += int(metrics.polygons_count.value)
        else:
            inputs[group.value.string_value] = int(metrics.inputs_count.value)
    return inputs, annotations


def _check_pre_upload_stats(value: Any) -> UploadStats | None:
    shape_ok = (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(part, dict) and all(isinstance(n, int) for n in part.values()) for part in value)
    )
    if value is not None and not shape_ok:
        raise UserError(
            "pre_upload_stats must be what get_upload_status(pre_upload=True) returned: "
            f"(inputs by type, annotation counts), got {value!r}"
        )
    return None if value is None else (value[0], value[1])


def _group_key(value: struct_pb2.Value) -> str:
    """A metrics group's value as a readable key ("text", "3")."""
    plain = json_format.MessageToDict(value)
    if isinstance(plain, float) and plain.is_integer():
        return str(int(plain))
    return str(plain)


class _Partial(Exception):
    """get_upload_status ran out of time: carries the groups seen so far."""

    def __init__(self, groups: list[Any]) -> None:
        self.groups = groups


def _kind(item: resources_pb2.Input) -> str:
    return next((k for k in ("image", "video", "audio", "text") if item.data.HasField(k)), "text")


def _safe(name: str) -> str:
    """A file-name-safe version of an id: no separators, no dot-dot."""
    return _SAFE.sub("_", name).strip("._") or uuid.uuid4().hex


def _unique_names(inputs: Sequence[resources_pb2.Input]) -> list[str]:
    """A file name per input: its id when that is already safe, else the sanitised id plus a
    short hash of the real id, so ids that sanitise alike ("a/b", "a_b") never overwrite each
    other; ids repeated in the archive get a counter."""
    names: list[str] = []
    used: set[str] = set()
    for item in inputs:
        safe = _safe(item.id)
        name = safe if safe == item.id else f"{safe}-{hashlib.sha256(item.id.encode()).hexdigest()[:8]}"
        candidate, n = name, 1
        while candidate.lower() in used:  # lower: case-insensitive file systems too
            n += 1
            candidate = f"{name}-{n}"
        used.add(candidate.lower())
        names.append(candidate)
    return names


def read_archive(raw: bytes) -> list[resources_pb2.Input]:
    """The inputs of a CLARIFAI_DATA_PROTOBUF archive; ApiClientError says what is wrong otherwise."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise ApiClientError("the export archive is not a zip file") from None
    with archive:
        names = archive.namelist()
        if "mimetype" not in names:
            raise ApiClientError("the export archive has no 'mimetype' member; it is not a Clarifai export")
        if archive.read("mimetype").strip() != ARCHIVE_MIMETYPE:
            raise ApiClientError(f"the export archive's mimetype is not {ARCHIVE_MIMETYPE.decode()}")
        inputs: list[resources_pb2.Input] = []
        for name in names:
            if name == "mimetype" or name.endswith("/"):
                continue
            try:
                batch = resources_pb2.InputBatch.FromString(archive.read(name))
            except (message.DecodeError, zipfile.BadZipFile, OSError) as exc:
                raise ApiClientError(
                    f"the export archive member {name!r} is not an InputBatch: {exc}"
                ) from None
            inputs.extend(batch.inputs)
    return inputs


def _write_export(target: Path, entries: Sequence[tuple[str, bytes]]) -> Path:
    if target.suffix == ".zip":
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for name, content in entries:
                out.writestr(name, content)
        return target
    root = target.resolve()
    for name, content in entries:
        path = (root / name).resolve()
        if not path.is_relative_to(root):  # defence in depth: names are already sanitised
            raise ApiClientError(f"refusing to write {name!r} outside {root}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root
