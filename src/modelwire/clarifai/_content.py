"""Predict inputs from bytes, files and URLs; the input type is sniffed when not given.

Sniffing needs no RPC (the published client fetched the model and its model type first): known
magic bytes mean image, video or audio; otherwise UTF-8 text. URLs are typed by their extension.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai.errors import UserError

INPUT_TYPES = ("image", "text", "video", "audio")
_MAGIC = (
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"BM", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
    (b"ID3", "audio"),
    (b"fLaC", "audio"),
    (b"OggS", "audio"),
    (b"\x1aE\xdf\xa3", "video"),
)
_SUFFIXES = {
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"), "image"),
    **dict.fromkeys((".mp4", ".mov", ".avi", ".webm", ".mkv"), "video"),
    **dict.fromkeys((".mp3", ".wav", ".flac", ".ogg", ".m4a"), "audio"),
    **dict.fromkeys((".txt", ".md", ".csv", ".json"), "text"),
}


def sniff_bytes(data: bytes) -> str:
    """The input type of raw bytes; UserError when it cannot be told."""
    if data[:4] == b"RIFF":
        return {b"WEBP": "image", b"WAVE": "audio", b"AVI ": "video"}.get(data[8:12], "video")
    if data[4:8] == b"ftyp":
        return "video"
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(
            "cannot tell the input type of these bytes: pass input_type='image'|'text'|..."
        ) from None
    return "text"


def _check_type(input_type: str) -> str:
    if input_type not in INPUT_TYPES:
        raise UserError(f"input_type must be one of {list(INPUT_TYPES)}, got {input_type!r}")
    return input_type


def input_from_bytes(data: bytes, input_type: str | None = None) -> resources_pb2.Input:
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise UserError("input_bytes must be non-empty bytes")
    kind = _check_type(input_type or sniff_bytes(bytes(data)))
    item = resources_pb2.Input()
    if kind == "text":
        try:
            item.data.text.raw = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise UserError("input_type='text' needs UTF-8 bytes") from None
    else:
        getattr(item.data, kind).base64 = bytes(data)
    return item


def input_from_file(filepath: str, input_type: str | None = None) -> resources_pb2.Input:
    path = Path(filepath)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {filepath!r}: {exc.strerror or exc}") from None
    return input_from_bytes(data, input_type or _SUFFIXES.get(path.suffix.lower()))


def input_from_url(url: str, input_type: str | None = None) -> resources_pb2.Input:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "file"):
        raise UserError(f"url must be http(s):// (or file://), got {url!r}")
    kind = input_type or _SUFFIXES.get(Path(parts.path).suffix.lower())
    if kind is None:
        raise UserError(f"cannot tell the input type of {url!r} from its name: pass input_type=")
    item = resources_pb2.Input()
    getattr(item.data, _check_type(kind)).url = url
    return item
