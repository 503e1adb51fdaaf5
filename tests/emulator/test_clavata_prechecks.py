"""Tests for the Clavata emulator's content prechecks and URL fetching."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile

from modelwire._gen.clavata.gateway.v1 import errs_pb2
from modelwire._gen.clavata.shared.v1 import public_pb2
from modelwire.emulator.clavata.policy import content_hash
from modelwire.emulator.clavata.prechecks import (
    ContentFetchError,
    detect_image_format,
    fetch_url,
    precheck,
    precheck_image_bytes,
)

NCMEC = errs_pb2.PRECHECK_FAILURE_TYPE_NCMEC
UNSUPPORTED = errs_pb2.PRECHECK_FAILURE_TYPE_UNSUPPORTED_IMAGE_FORMAT
INVALID = errs_pb2.PRECHECK_FAILURE_TYPE_INVALID_IMAGE
NO_BLOCKLIST: frozenset[str] = frozenset()


def make_image(fmt: str, mode: str = "RGB", size: tuple[int, int] = (48, 32)) -> bytes:
    """A small image with varied pixels, so truncation removes real image data."""
    image = Image.new("RGB", size)
    image.putdata(
        [
            ((x * 7 + y * 3) % 256, (x * y) % 256, (y * 11) % 256)
            for y in range(size[1])
            for x in range(size[0])
        ]
    )
    if mode != "RGB":
        image = image.convert(mode)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def image_content(data: bytes) -> public_pb2.ContentData:
    return public_pb2.ContentData(image=data)


def check(data: bytes, blocklist: frozenset[str] = NO_BLOCKLIST) -> errs_pb2.PrecheckFailure | None:
    return precheck(image_content(data), blocklist)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# -- image prechecks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [("PNG", "RGB"), ("PNG", "RGBA"), ("PNG", "L"), ("JPEG", "RGB"), ("JPEG", "L"), ("WEBP", "RGB")],
)
def test_supported_images_pass(fmt: str, mode: str) -> None:
    data = make_image(fmt, mode)
    assert detect_image_format(data) == fmt
    assert check(data) is None


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_formats_are_unsupported(fmt: str) -> None:
    data = make_image(fmt)
    failure = check(data)
    assert failure is not None
    assert failure.type == UNSUPPORTED
    assert failure.message == f"image format {fmt} is not supported; send PNG, JPEG or WebP"
    assert failure.details.string_value == content_hash(image_content(data))


@pytest.mark.parametrize("data", [b"hello, world", b"\x00" * 64, b"RIFF\x10\x00\x00\x00WAVEfmt "])
def test_unrecognised_bytes_are_unsupported(data: bytes) -> None:
    failure = check(data)
    assert failure is not None
    assert failure.type == UNSUPPORTED
    assert "not recognised" in failure.message


def test_empty_image_is_unsupported() -> None:
    failure = check(b"")
    assert failure is not None
    assert failure.type == UNSUPPORTED
    assert failure.message == "image is empty; send PNG, JPEG or WebP"
    assert failure.details.string_value == "fnv1a128::6c62272e07bb014262b821756295c58d"


def truncated(fmt: str, keep: float | int) -> bytes:
    data = make_image(fmt)
    return data[: int(len(data) * keep)] if isinstance(keep, float) else data[:keep]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(truncated("PNG", 0.5), id="png-half"),
        pytest.param(truncated("PNG", -2), id="png-cut-iend"),
        pytest.param(truncated("PNG", 12), id="png-magic-only"),
        pytest.param(truncated("JPEG", 0.5), id="jpeg-half"),
        pytest.param(truncated("JPEG", -2), id="jpeg-no-eoi"),
        pytest.param(truncated("JPEG", 3), id="jpeg-magic-only"),
        pytest.param(truncated("WEBP", 0.5), id="webp-half"),
        pytest.param(b"RIFF\x00\x00\x00\x00WEBPVP8 garbage", id="webp-garbage"),
    ],
)
def test_truncated_or_corrupt_images_are_invalid(data: bytes) -> None:
    assert detect_image_format(data) in ("PNG", "JPEG", "WEBP")
    failure = check(data)
    assert failure is not None, "a damaged image passed the precheck"
    assert failure.type == INVALID
    assert failure.message.startswith("image is not a valid ")
    assert "0x" not in failure.message  # no object addresses: refusals are deterministic
    assert failure.details.string_value == content_hash(image_content(data))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def corrupt_png(where: str) -> bytes:
    data = bytearray(make_image("PNG"))
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4 : idat], "big")
    # flip a byte of the compressed pixels, or of the chunk's CRC only (the pixels stay intact)
    data[idat + 10 if where == "pixels" else idat + 4 + length] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize("where", ["pixels", "crc"])
def test_png_with_a_bad_checksum_is_invalid(where: str) -> None:
    failure = check(corrupt_png(where))
    assert failure is not None
    assert failure.type == INVALID


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size but carries almost no data: a decompression bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def test_oversized_images_are_invalid_without_decoding() -> None:
    failure = check(png_header_only(8000, 8000))
    assert failure is not None
    assert failure.type == INVALID
    assert "8000x8000 pixels exceeds the limit" in failure.message


def test_blocklisted_image_is_refused_as_ncmec() -> None:
    data = make_image("PNG")
    failure = check(data, frozenset({md5(data)}))
    assert failure is not None
    assert failure.type == NCMEC
    assert "NCMEC" in failure.message
    assert failure.details.WhichOneof("kind") == "string_value"
    assert failure.details.string_value == content_hash(image_content(data))
    assert check(data, frozenset({md5(b"something else")})) is None


def test_blocklist_is_checked_before_the_format() -> None:
    for data in (make_image("GIF"), truncated("PNG", 0.5), b""):
        failure = check(data, frozenset({md5(data)}))
        assert failure is not None
        assert failure.type == NCMEC


def test_only_inline_images_are_prechecked() -> None:
    blocklist = frozenset({md5(b"http://127.0.0.1/x.gif")})
    assert precheck(public_pb2.ContentData(text="GIF89a"), blocklist) is None
    assert precheck(public_pb2.ContentData(image_url="http://127.0.0.1/x.gif"), blocklist) is None


def test_precheck_image_bytes_reports_the_given_hash() -> None:
    url_content = public_pb2.ContentData(image_url="http://127.0.0.1/cat.gif")
    failure = precheck_image_bytes(make_image("GIF"), NO_BLOCKLIST, details_hash=content_hash(url_content))
    assert failure is not None
    assert failure.details.string_value == content_hash(url_content)
    plain = precheck_image_bytes(b"GIF89a", NO_BLOCKLIST)
    assert plain is not None
    assert plain.details.string_value == content_hash(image_content(b"GIF89a"))


# -- fetch_url: files --------------------------------------------------------------------------------


def test_fetch_file_url(tmp_path: Path) -> None:
    path = tmp_path / "a cat (1).png"  # needs percent-encoding in the URL
    data = make_image("PNG")
    path.write_bytes(data)
    assert fetch_url(path.as_uri(), file_roots=[tmp_path]) == data
    assert (
        fetch_url("file://localhost" + path.as_uri().removeprefix("file://"), file_roots=[tmp_path]) == data
    )


def test_file_urls_are_refused_without_content_dirs(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(make_image("PNG"))
    with pytest.raises(ContentFetchError, match=r"reads no local files.*--content-dir"):
        fetch_url(path.as_uri())


def test_file_urls_outside_the_content_dirs_are_refused(tmp_path: Path) -> None:
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    secret = other / "secret.txt"
    secret.write_text("private")
    (allowed / "link").symlink_to(secret)  # a symlink out of the directory does not get out
    for url in (
        secret.as_uri(),
        (allowed / ".." / "other" / "secret.txt").as_uri(),
        "file://" + str(allowed) + "/%2e%2e/other/secret.txt",
        (allowed / "link").as_uri(),
        "file:///etc/passwd",
    ):
        with pytest.raises(ContentFetchError, match="reads files only under"):
            fetch_url(url, file_roots=[allowed])


def test_fetch_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ContentFetchError, match="no such file"):
        fetch_url((tmp_path / "missing.png").as_uri(), file_roots=[tmp_path])


def test_fetch_directory_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(ContentFetchError, match="cannot fetch"):
        fetch_url(tmp_path.as_uri(), file_roots=[tmp_path])


def test_fetch_oversize_file(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 101)
    assert fetch_url(path.as_uri(), max_bytes=101, file_roots=[tmp_path]) == b"x" * 101
    with pytest.raises(ContentFetchError, match="larger than the limit of 100 bytes"):
        fetch_url(path.as_uri(), max_bytes=100, file_roots=[tmp_path])


# -- fetch_url: loopback http ------------------------------------------------------------------------

PAYLOAD = bytes(range(256)) * 8


class Handler(http.server.BaseHTTPRequestHandler):
    release: threading.Event  # set by the fixture

    def do_GET(self) -> None:
        routes: dict[str, tuple[int, dict[str, str], bytes]] = {
            "/cat.png": (200, {}, PAYLOAD),
            "/redirect-in": (302, {"Location": "/cat.png"}, b""),
            "/redirect-out": (302, {"Location": "http://example.com/cat.png"}, b""),
            "/redirect-file": (302, {"Location": "file:///etc/hostname"}, b""),
        }
        if self.path == "/slow":
            self.release.wait(10)  # until the test is over
            return
        status, headers, body = routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


@pytest.fixture
def server() -> Iterator[str]:
    release = threading.Event()
    handler = type("BoundHandler", (Handler,), {"release": release})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail the test if anything resolves or connects to a host that is not loopback."""
    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"network access attempted: {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    return looked_up


def test_fetch_loopback_http(server: str, loopback_only: list[str]) -> None:
    assert fetch_url(server + "/cat.png") == PAYLOAD
    port = server.rsplit(":", 1)[1]
    assert fetch_url(f"http://localhost:{port}/cat.png") == PAYLOAD


def test_fetch_ignores_proxy_settings(
    server: str, monkeypatch: pytest.MonkeyPatch, loopback_only: list[str]
) -> None:
    # A proxy would take the request off this machine (and 192.0.2.1 is unroutable).
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://192.0.2.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert fetch_url(server + "/cat.png", timeout=2) == PAYLOAD


def test_fetch_http_error(server: str) -> None:
    with pytest.raises(ContentFetchError, match="HTTP 404"):
        fetch_url(server + "/missing.png")


def test_fetch_http_oversize(server: str) -> None:
    assert fetch_url(server + "/cat.png", max_bytes=len(PAYLOAD)) == PAYLOAD
    with pytest.raises(ContentFetchError, match=f"larger than the limit of {len(PAYLOAD) - 1} bytes"):
        fetch_url(server + "/cat.png", max_bytes=len(PAYLOAD) - 1)


def test_fetch_follows_loopback_redirects(server: str) -> None:
    assert fetch_url(server + "/redirect-in") == PAYLOAD


def test_fetch_refuses_redirects_off_loopback(server: str, loopback_only: list[str]) -> None:
    with pytest.raises(ContentFetchError, match=r"only fetches http\(s\) URLs on a loopback host"):
        fetch_url(server + "/redirect-out")
    assert "example.com" not in loopback_only
    # urllib itself refuses redirects to file:// (our handler would too): either way, an error
    with pytest.raises(ContentFetchError, match="'file:///etc/hostname'"):
        fetch_url(server + "/redirect-file")


def test_fetch_timeout(server: str) -> None:
    with pytest.raises(ContentFetchError, match="cannot fetch"):
        fetch_url(server + "/slow", timeout=0.3)


def test_fetch_connection_refused() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago, with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ContentFetchError, match="cannot fetch"):
        fetch_url(f"http://127.0.0.1:{port}/x.png", timeout=2)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/cat.png",
        "http://example.com/cat.png",
        "http://10.0.0.1/cat.png",
        "http://[2001:db8::1]/cat.png",
        "http://localhost.example.com/cat.png",
        "http://127.0.0.1@example.com/cat.png",
        "ftp://127.0.0.1/cat.png",
        "file://fileserver/share/cat.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "cat.png",
    ],
)
def test_fetch_refuses_the_open_network(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(ContentFetchError) as caught:
        fetch_url(url)
    message = str(caught.value)
    assert repr(url) in message
    assert "only fetches http(s) URLs on a loopback host" in message
    assert "send the content's bytes instead" in message


@pytest.mark.parametrize("url", ["http://127.0.0.2:1/x", "http://[::1]:1/x", "http://[::ffff:127.0.0.1]:1/x"])
def test_other_loopback_addresses_are_allowed(url: str) -> None:
    # Port 1 has nothing listening: the fetch is attempted (not refused) and fails to connect.
    with pytest.raises(ContentFetchError, match="cannot fetch"):
        fetch_url(url, timeout=2)


def test_invalid_url() -> None:
    with pytest.raises(ContentFetchError, match="invalid URL"):
        fetch_url("http://127.0.0.1:99999999/x")
