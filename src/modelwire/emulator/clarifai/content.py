"""Input content: how the Clarifai emulator fetches, validates, embeds and hosts what is uploaded.

`process_input` turns a pending input into its stored form: `base64` bytes are taken as given,
URLs are fetched only from loopback http(s) addresses, or ``file://`` under the emulator's
content directories (`fetch_url` refuses anything else, so the emulator never touches the open
network nor reads files it was not given; see `Fetcher`), images are decoded with Pillow
and embedded with `embed_image`; video and audio are stored as they are (there is no model for
them, so they are not searchable by similarity). Text is embedded when first read (`input_vector`),
not on upload: embedding checks nothing, so it cannot fail an input, and it was a third of an
upload's cost for a vector most uploads never need.

Content bytes live in SQLite (`clarifai_blobs`, keyed by SHA-256). Like the real API, inputs are
returned with hosted copies instead of the bytes: ``data.<kind>.hosted`` = {prefix, suffix,
sizes=["orig"]} where ``{prefix}/orig/{suffix}`` is an http URL of the emulator's file host
(`files_server`), which serves the bytes from the database to callers with a valid key. Export
archives live in this emulator's files directory (a temporary directory removed on close).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from modelwire._core.errors import ConfigurationError
from modelwire._gen.clarifai.api import resources_pb2
from modelwire._gen.clarifai.api.status import status_pb2
from modelwire.emulator.clarifai.embeddings import EmbeddingError, embed_image, embed_text
from modelwire.emulator.clarifai.failures import S, status
from modelwire.emulator.clarifai.records import Records
from modelwire.emulator.clavata.prechecks import ContentFetchError, fetch_url

ContentKind = Literal["image", "video", "audio", "text"]
CONTENT_KINDS: tuple[ContentKind, ...] = ("image", "video", "audio", "text")
MAX_CONTENT_BYTES = 20 * 2**20  # per fetched URL


def content_kinds(data: resources_pb2.Data) -> list[ContentKind]:
    """The content fields set on `data` (image, video, audio, text)."""
    return [kind for kind in CONTENT_KINDS if data.HasField(kind)]


def has_content(data: resources_pb2.Data, kind: str) -> bool:
    part = getattr(data, kind)
    if kind == "text":
        return bool(part.raw or part.url)
    return bool(part.base64 or part.url)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Files:
    """This emulator's directory of hosted copies and export archives (created on first use,
    removed on close)."""

    def __init__(self) -> None:
        self._root: Path | None = None
        self._made: set[Path] = set()
        self._lock = threading.Lock()

    def directory(self, *parts: str) -> Path:
        """A directory under the root (made on first use)."""
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="modelwire-clarifai-"))
            path = self._root.joinpath(*parts)
            if path not in self._made:
                path.mkdir(parents=True, exist_ok=True)
                self._made.add(path)
            return path

    def close(self) -> None:
        with self._lock:
            root, self._root = self._root, None
            self._made.clear()
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)


class Hosting:
    """Hosted copies of stored content as URLs of the file host (see the module docstring).

    `base_url` is set when the file host starts (`http://127.0.0.1:<port>`)."""

    def __init__(self, records: Records, files: Files) -> None:
        self._records = records
        self._files = files
        self.base_url = ""

    @property
    def prefix(self) -> str:
        if not self.base_url:
            raise RuntimeError("the Clarifai file host is not running (start the Emulator)")
        return f"{self.base_url}/hosted"

    def hosted(self, sha: str) -> resources_pb2.HostedURL:
        # A deleted blob leaves the URL dangling (404), as it would upstream.
        return resources_pb2.HostedURL(prefix=self.prefix, suffix=sha, sizes=["orig"])

    def own_sha(self, url: str) -> str | None:
        """The content hash when `url` is one of this emulator's hosted URLs, else None."""
        if not self.base_url or not url.startswith(self.prefix + "/orig/"):
            return None
        sha = url[len(self.prefix + "/orig/") :]
        return sha if len(sha) == 64 and all(c in "0123456789abcdef" for c in sha) else None

    def blob(self, sha: str) -> bytes | None:
        row = self._records.store.one("SELECT data FROM clarifai_blobs WHERE sha = ?", (sha,))
        return None if row is None else bytes(row["data"])

    def render(self, data: resources_pb2.Data, kind: str, sha: str | None) -> None:
        """Point `data.<kind>` at the hosted copy of its content (the bytes are never returned)."""
        if not sha or kind not in CONTENT_KINDS:
            return
        part = getattr(data, kind)
        part.hosted.CopyFrom(self.hosted(sha))
        if not part.url:
            part.url = f"{part.hosted.prefix}/orig/{sha}"


@dataclass
class Outcome:
    """The result of processing one input."""

    input: resources_pb2.Input  # what to store: no base64 bytes, fetched text in `raw`
    kind: str
    content: bytes | None
    vector: NDArray[np.float32] | None
    status: status_pb2.Status

    @property
    def ok(self) -> bool:
        return self.status.code == S.INPUT_DOWNLOAD_SUCCESS

    @property
    def sha(self) -> str | None:
        return None if self.content is None else sha256(self.content)


# How a Clarifai caller sends content as bytes (what a refused URL's error suggests).
CLARIFAI_BYTES = "e.g. Inputs.get_input_from_bytes(...) or Inputs.get_input_from_file(...)"


@dataclass(frozen=True)
class Fetcher:
    """How this emulator fetches content URLs: its own hosted URLs from the database, file://
    only under `roots` (none by default: file:// is refused), http(s) only on loopback."""

    roots: tuple[Path, ...] = ()
    hosting: Hosting | None = field(default=None, compare=False)

    def __call__(self, url: str, *, max_bytes: int = MAX_CONTENT_BYTES) -> bytes:
        if self.hosting is not None:
            sha = self.hosting.own_sha(url)
            if sha is not None:
                data = self.hosting.blob(sha)
                if data is None:
                    raise ContentFetchError(f"cannot fetch {url!r}: that content was deleted")
                if len(data) > max_bytes:
                    raise ContentFetchError(
                        f"content at {url!r} is larger than the limit of {max_bytes} bytes"
                    )
                return data
        return fetch_url(url, max_bytes=max_bytes, file_roots=self.roots, send_bytes_with=CLARIFAI_BYTES)


# The fetcher of the emulator whose call (or worker task) is running: set by the dispatcher and
# by `FetchingExecutor`, so module-level helpers need no emulator argument.
# Outside any emulator's call: no file roots, no hosted content.
FETCHER: ContextVar[Fetcher | None] = ContextVar("clarifai_fetcher", default=None)
_NO_FETCHER = Fetcher()
T = TypeVar("T")


def fetch(url: str, *, max_bytes: int = MAX_CONTENT_BYTES) -> bytes:
    return (FETCHER.get() or _NO_FETCHER)(url, max_bytes=max_bytes)


def with_fetcher(fetcher: Fetcher, fn: Callable[..., T]) -> Callable[..., T]:
    """`fn` running with `fetcher` as the current one."""

    def run(*args: Any, **kwargs: Any) -> T:
        token = FETCHER.set(fetcher)
        try:
            return fn(*args, **kwargs)
        finally:
            FETCHER.reset(token)

    return run


class FetchingExecutor(ThreadPoolExecutor):
    """A worker pool whose tasks fetch content with one emulator's `Fetcher`."""

    def __init__(self, fetcher: Fetcher, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fetcher = fetcher

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return super().submit(with_fetcher(self.fetcher, fn), *args, **kwargs)


def content_roots(dirs: Sequence[str | os.PathLike[str]]) -> tuple[Path, ...]:
    """The resolved directories under which file:// content may be read (each must exist)."""
    roots = []
    for d in dirs:
        path = Path(d).expanduser().resolve()
        if not path.is_dir():
            raise ConfigurationError(f"content directory {str(d)!r} is not a directory: pass an existing one")
        roots.append(path)
    return tuple(roots)


def _fetch(url: str) -> bytes:
    return fetch(url)


def _image_info(data: bytes) -> resources_pb2.ImageInfo:
    with Image.open(io.BytesIO(data)) as img:  # header only: the pixels were decoded by embed_image
        return resources_pb2.ImageInfo(
            width=img.width, height=img.height, format=img.format or "", color_mode=img.mode
        )


def _process(item: resources_pb2.Input, kind: str) -> tuple[bytes, NDArray[np.float32] | None]:
    data = item.data
    if kind == "text":
        text = data.text.raw
        if not text and data.text.url:
            try:
                text = _fetch(data.text.url).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ContentFetchError(f"text at {data.text.url!r} is not UTF-8 ({exc.reason})") from None
            data.text.raw = text
        return text.encode("utf-8"), None
    part = getattr(data, kind)
    raw = bytes(part.base64) if part.base64 else _fetch(part.url)
    part.ClearField("base64")
    if not raw:
        raise ContentFetchError(f"the {kind} content is empty")
    if kind != "image":
        return raw, None
    vector = embed_image(raw)  # decodes the image: undecodable bytes fail here
    data.image.image_info.CopyFrom(_image_info(raw))
    return raw, vector


def process_input(pending: resources_pb2.Input, kind: str) -> Outcome:
    """Fetch, validate and embed one pending input (never raises for bad content).

    A text's vector is left None (see `input_vector`). Images are always embedded: that is what
    decodes, so validates, them."""
    item = resources_pb2.Input()
    item.CopyFrom(pending)
    try:
        content, vector = _process(item, kind)
    except (ContentFetchError, EmbeddingError) as exc:
        if kind != "text":
            getattr(item.data, kind).ClearField("base64")  # failed content is not kept either
        return Outcome(item, kind, None, None, status(S.INPUT_DOWNLOAD_FAILED, str(exc)))
    return Outcome(item, kind, content, vector, status(S.INPUT_DOWNLOAD_SUCCESS))


_DOWNLOAD_SUCCESS = status(S.INPUT_DOWNLOAD_SUCCESS)  # only ever copied from


def instant_outcome(item: resources_pb2.Input, kind: str) -> Outcome | None:
    """`process_input`'s outcome for raw text, made in place (no copy): nothing to fetch or decode,
    its UTF-8 bytes are its content. None for any other input: it needs `process_input`."""
    if kind != "text" or not item.data.text.raw:
        return None
    return Outcome(item, kind, item.data.text.raw.encode("utf-8"), None, _DOWNLOAD_SUCCESS)


def input_vector(kind: str, stored: bytes | None, item: resources_pb2.Input) -> NDArray[np.float32] | None:
    """A stored input's search vector: the one stored with it (images), or, for a text processed
    successfully, its `embed_text` computed now; None when it has none (failed, pending, video,
    audio)."""
    if stored is not None:
        return np.frombuffer(stored, dtype=np.float32)
    if kind == "text" and item.status.code == S.INPUT_DOWNLOAD_SUCCESS:
        return embed_text(item.data.text.raw)
    return None
