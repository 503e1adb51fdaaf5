"""Prechecks with which the Clavata emulator refuses content, like the real gateway does.

The gateway refuses an image before evaluating it when its hash is on the known-CSAM (NCMEC) list,
when its format is not PNG, JPEG or WebP, or when it cannot be decoded. Refusals travel as
``PrecheckFailure`` messages whose ``details.string_value`` is the refused content's hash.

URL content is fetched with :func:`fetch_url`, which never touches the open network nor reads
files it was not given: only http(s) URLs on a loopback address, and ``file://`` URLs of files
under the content directories the emulator was started with (none by default, so file:// is
refused unless `Emulator(content_dirs=...)` / `modelwire serve --content-dir` names some).
"""

from __future__ import annotations

import hashlib
import http.client
import io
import ipaddress
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from PIL import Image, UnidentifiedImageError

from modelwire._gen.clavata.gateway.v1 import errs_pb2
from modelwire._gen.clavata.shared.v1 import public_pb2
from modelwire._gen.google.protobuf import struct_pb2
from modelwire.emulator.clavata.policy import content_hash

__all__ = [
    "MAX_IMAGE_PIXELS",
    "SUPPORTED_FORMATS",
    "ContentFetchError",
    "detect_image_format",
    "fetch_url",
    "precheck",
    "precheck_image_bytes",
]

SUPPORTED_FORMATS = ("PNG", "JPEG", "WEBP")
# Larger images are refused as invalid before decoding, so a tiny file cannot expand into gigabytes.
# Kept below Pillow's own limit so the decision is ours and does not depend on its global setting.
MAX_IMAGE_PIXELS = 50_000_000

_SUPPORTED_HINT = "send PNG, JPEG or WebP"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # length 0, type, CRC: always these 12 bytes


def detect_image_format(data: bytes) -> str | None:
    """Name of the image format from the magic bytes ("PNG", "GIF", ...), or None if unknown."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    # Only to name the format in the refusal message.
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data.startswith(b"BM"):
        return "BMP"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "HEIF"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "AVIF"
    if data.startswith(b"\x00\x00\x01\x00"):
        return "ICO"
    if data.startswith(b"%PDF"):
        return "PDF"
    if data.lstrip()[:5].lower() in (b"<svg ", b"<?xml"):
        return "SVG"
    return None


def _failure(
    type_: errs_pb2.PrecheckFailureType.ValueType, message: str, hash_value: str
) -> errs_pb2.PrecheckFailure:
    return errs_pb2.PrecheckFailure(
        type=type_, message=message, details=struct_pb2.Value(string_value=hash_value)
    )


def _decode_problem(data: bytes, fmt: str) -> str | None:
    """Why Pillow cannot fully decode ``data`` as ``fmt``, or None if it can."""
    try:
        # Pillow can only verify() an image once, so open it twice: verify checks the structure
        # (PNG chunk CRCs), load() decodes every pixel, which catches truncated scan data.
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return f"{width}x{height} pixels exceeds the limit of {MAX_IMAGE_PIXELS} pixels"
            image.verify()
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            image.load()
    except UnidentifiedImageError:
        # Its message embeds the BytesIO's repr (a memory address); keep refusals deterministic.
        return f"the data cannot be decoded as {fmt}"
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error, ...
        return str(exc) or type(exc).__name__
    # Pillow accepts a PNG whose final IEND chunk is cut short, as all pixels are there already.
    if fmt == "PNG" and _PNG_IEND not in data:
        return "the file is truncated (no complete IEND chunk)"
    return None


def precheck_image_bytes(
    data: bytes, blocklist: frozenset[str], *, details_hash: str | None = None
) -> errs_pb2.PrecheckFailure | None:
    """Refusal for image bytes, or None if they may be evaluated.

    ``details_hash`` is the hash to report (e.g. that of the image URL the bytes came from);
    it defaults to the content hash of ``ContentData(image=data)``. ``blocklist`` holds lowercase
    hex MD5s.
    """

    def hash_value() -> str:
        return details_hash if details_hash is not None else content_hash(public_pb2.ContentData(image=data))

    # The CSAM check comes first: such content is refused as such, whatever else is wrong with it.
    if hashlib.md5(data, usedforsecurity=False).hexdigest() in blocklist:
        return _failure(
            errs_pb2.PRECHECK_FAILURE_TYPE_NCMEC,
            "image matches the known-CSAM hash list (NCMEC) and was refused",
            hash_value(),
        )
    if not data:
        return _failure(
            errs_pb2.PRECHECK_FAILURE_TYPE_UNSUPPORTED_IMAGE_FORMAT,
            f"image is empty; {_SUPPORTED_HINT}",
            hash_value(),
        )
    fmt = detect_image_format(data)
    if fmt is None or fmt not in SUPPORTED_FORMATS:
        what = f"image format {fmt} is not supported" if fmt else "image format is not recognised"
        return _failure(
            errs_pb2.PRECHECK_FAILURE_TYPE_UNSUPPORTED_IMAGE_FORMAT,
            f"{what}; {_SUPPORTED_HINT}",
            hash_value(),
        )
    problem = _decode_problem(data, fmt)
    if problem is not None:
        return _failure(
            errs_pb2.PRECHECK_FAILURE_TYPE_INVALID_IMAGE,
            f"image is not a valid {fmt}: {problem}",
            hash_value(),
        )
    return None


def precheck(content: public_pb2.ContentData, blocklist: frozenset[str]) -> errs_pb2.PrecheckFailure | None:
    """Refusal for content the gateway would refuse, or None.

    Only inline image bytes are checked here; for ``image_url`` content, fetch the bytes with
    :func:`fetch_url` and call :func:`precheck_image_bytes` with the URL content's hash.
    """
    if content.WhichOneof("content") != "image":
        return None
    return precheck_image_bytes(content.image, blocklist, details_hash=content_hash(content))


# --------------------------------------------------------------------------------------------------
# URL fetching


class ContentFetchError(ValueError):
    """Content at a URL could not (or may not) be fetched by the emulator. `refused`: the emulator
    may not fetch it at all (the network, a file outside its content directories)."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


# How a Clavata caller sends content as bytes (what `fetch_url`'s refusals suggest by default).
CLAVATA_BYTES = "e.g. ContentData(image=...)"


def _refusal(url: str) -> ContentFetchError:
    return ContentFetchError(
        f"refusing to fetch {url!r}: the emulator never uses the network and only fetches http(s) URLs "
        "on a loopback host (localhost, 127.0.0.0/8, ::1) and file:// URLs under its content "
        "directories; send the content's bytes instead",
        refused=True,
    )


def _file_refusal(url: str, roots: Sequence[Path]) -> ContentFetchError:
    if not roots:
        where = (
            "this emulator reads no local files (start it with content_dirs=[...] or "
            "`modelwire serve --content-dir DIR` to allow a directory)"
        )
    else:
        where = "it reads files only under " + ", ".join(str(r) for r in roots)
    message = f"refusing to read {url!r}: {where}; or send the content's bytes instead"
    return ContentFetchError(message, refused=True)


def _local_file(url: str, parts: urllib.parse.SplitResult, roots: Sequence[Path]) -> Path:
    """The real path of a file:// URL, when it lies under one of `roots` (symlinks resolved)."""
    if not roots:
        raise _file_refusal(url, roots)
    path = Path(os.path.realpath(urllib.request.url2pathname(parts.path)))
    for root in roots:
        if path.is_relative_to(Path(os.path.realpath(root))):
            return path
    raise _file_refusal(url, roots)


def _is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # any other name would need DNS, which may point anywhere
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _check_allowed(url: str) -> urllib.parse.SplitResult:
    try:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise ContentFetchError(f"invalid URL {url!r}: {exc}") from None
    if scheme == "file" and host in (None, "", "localhost"):
        return parts
    if scheme in ("http", "https") and _is_loopback_host(host):
        return parts
    raise _refusal(url)


def _read_capped(stream: IO[bytes], max_bytes: int, url: str) -> bytes:
    # Read one byte more than allowed so oversize content is detected without reading all of it.
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ContentFetchError(f"content at {url!r} is larger than the limit of {max_bytes} bytes")
    return data


class _LoopbackOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to URLs the emulator may fetch, so a local server cannot send us out."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        parts = _check_allowed(newurl)
        if parts.scheme.lower() not in ("http", "https"):
            raise _refusal(newurl)  # no redirecting an http fetch onto the local filesystem
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    # An empty ProxyHandler: an http_proxy in the environment must not route loopback fetches
    # through another machine.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _LoopbackOnlyRedirects())


def fetch_url(
    url: str,
    *,
    max_bytes: int = 20 * 2**20,
    timeout: float = 5.0,
    file_roots: Sequence[Path] = (),
    send_bytes_with: str = CLAVATA_BYTES,
) -> bytes:
    """Bytes at an http(s) URL on a loopback host, or a ``file://`` URL of a file under one of
    ``file_roots`` (none: file:// is refused), at most ``max_bytes``.

    Raises ContentFetchError for any other URL (before any network or disk activity), missing
    files, HTTP errors, timeouts and oversize content. A refusal names how the caller's API sends
    the bytes instead: ``send_bytes_with`` (each provider's emulator passes its own).
    """
    try:
        return _fetch_url(url, max_bytes, timeout, file_roots)
    except ContentFetchError as exc:
        if not exc.refused:
            raise
        raise ContentFetchError(f"{exc} ({send_bytes_with})", refused=True) from None


def _fetch_url(url: str, max_bytes: int, timeout: float, file_roots: Sequence[Path]) -> bytes:
    parts = _check_allowed(url)
    if parts.scheme.lower() == "file":
        path = _local_file(url, parts, file_roots)
        try:
            if os.path.getsize(path) > max_bytes:
                raise ContentFetchError(f"content at {url!r} is larger than the limit of {max_bytes} bytes")
            with open(path, "rb") as handle:
                return _read_capped(handle, max_bytes, url)
        except FileNotFoundError:
            raise ContentFetchError(f"cannot fetch {url!r}: no such file {str(path)!r}") from None
        except OSError as exc:
            raise ContentFetchError(f"cannot fetch {url!r}: {exc}") from None

    request = urllib.request.Request(url, headers={"User-Agent": "modelwire-emulator"})
    try:
        with _opener().open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise ContentFetchError(f"content at {url!r} is larger than the limit of {max_bytes} bytes")
            data: bytes = _read_capped(response, max_bytes, url)
            return data
    except urllib.error.HTTPError as exc:
        exc.close()
        raise ContentFetchError(f"cannot fetch {url!r}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ContentFetchError):  # a refused redirect, wrapped by urllib
            raise reason from None
        raise ContentFetchError(f"cannot fetch {url!r}: {reason}") from None
    except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, truncated bodies
        raise ContentFetchError(f"cannot fetch {url!r}: {exc}") from None
