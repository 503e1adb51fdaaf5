"""Client-side downloads never leak the PAT: exact origins only, TLS or loopback only, never across
redirects, http(s) only. Real sockets on loopback: small HTTP servers record what they receive."""

from __future__ import annotations

import http.server
import io
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from modelwire._gen.clarifai.api import resources_pb2
from modelwire.clarifai import App, Inputs
from modelwire.clarifai._download import Origin, fetch, may_send_key, origin
from modelwire.clarifai.dataset import ARCHIVE_MIMETYPE
from modelwire.clarifai.errors import ApiClientError
from modelwire.emulator import Emulator

KEY = "pat-downloads-0123456789"


# -- the decision, as a pure function ------------------------------------------------------------------

API = Origin("https", "api.clarifai.com", 443)


@pytest.mark.parametrize(
    ("url", "trusted", "expected"),
    [
        ("https://api.clarifai.com/v2/x", [API], True),
        ("https://API.clarifai.com:443/x", [API], True),  # same origin, spelled differently
        ("https://evilclarifai.com/x", [API], False),  # merely ends like the API host
        ("https://api.clarifai.com.evil.example/x", [API], False),
        ("https://data.clarifai.com/orig/x", [API], False),  # not configured, not named by the API
        ("https://data.clarifai.com/orig/x", [API, Origin("https", "data.clarifai.com", 443)], True),
        ("https://api.clarifai.com:8443/x", [API], False),  # another port is another origin
        ("http://api.clarifai.com/x", [API, Origin("http", "api.clarifai.com", 80)], False),  # no TLS
        ("http://10.1.2.3:8080/x", [Origin("http", "10.1.2.3", 8080)], False),  # plain http, not loopback
        ("http://127.0.0.1:9000/x", [Origin("http", "127.0.0.1", 9000)], True),  # loopback: the emulator
        ("http://localhost:9000/x", [Origin("http", "127.0.0.1", 9000)], False),  # another host name
        ("http://127.0.0.2:9000/x", [Origin("http", "127.0.0.1", 9000)], False),
    ],
)
def test_the_key_goes_only_to_exact_trusted_origins_over_tls_or_loopback(
    url: str, trusted: list[Origin], expected: bool
) -> None:
    assert may_send_key(url, trusted) is expected


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "data:text/plain,hi", "/etc/passwd", "http:///x"]
)
def test_only_http_urls_are_downloaded(url: str) -> None:
    with pytest.raises(ApiClientError, match="cannot download"):
        origin(url)


# -- real sockets ---------------------------------------------------------------------------------------


@dataclass
class Recorder:
    """A loopback HTTP server that records each request's path and Authorization header."""

    server: http.server.ThreadingHTTPServer
    routes: dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]] = field(default_factory=dict)
    seen: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def keys_sent(self) -> list[str | None]:
        return [auth for _, auth in self.seen]


def _serve(host: str) -> Recorder:
    recorder: Recorder

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            recorder.seen.append((self.path, self.headers.get("Authorization")))
            route = recorder.routes.get(self.path)
            if route is None:
                body = b"content of " + self.path.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                route(self)

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    recorder = Recorder(server)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return recorder


@pytest.fixture
def recorders() -> Iterator[Callable[[str], Recorder]]:
    started: list[Recorder] = []

    def start(host: str = "127.0.0.1") -> Recorder:
        started.append(_serve(host))
        return started[-1]

    yield start
    for r in started:
        r.server.shutdown()
        r.server.server_close()


def _client(api: Recorder) -> Inputs:
    """A client whose configured API is the recorder's origin (http://127.0.0.1:<port>)."""
    return Inputs(user_id="me", app_id="a", base_url=api.url(""), pat=KEY)


def _redirect(to: str, code: int = 302) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(code)
        handler.send_header("Location", to)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def image_at(url: str) -> resources_pb2.Input:
    return resources_pb2.Input(id="x", data=resources_pb2.Data(image=resources_pb2.Image(url=url)))


def hosted_at(prefix: str) -> resources_pb2.Input:
    hosted = resources_pb2.HostedURL(prefix=prefix, suffix="abc", sizes=["orig"])
    return resources_pb2.Input(id="x", data=resources_pb2.Data(image=resources_pb2.Image(hosted=hosted)))


def test_the_key_reaches_only_the_exact_configured_host(recorders: Callable[[str], Recorder]) -> None:
    api = recorders("127.0.0.1")
    with _client(api) as inputs:
        assert fetch(api.url("/same"), inputs._conn, source="caller") == b"content of /same"
        # The same port under another name is another host: no key.
        assert (
            fetch(api.url("/by-name", "localhost"), inputs._conn, source="caller") == b"content of /by-name"
        )
    assert api.seen == [("/same", f"Key {KEY}"), ("/by-name", None)]


def test_the_key_does_not_reach_another_loopback_address(recorders: Callable[[str], Recorder]) -> None:
    try:
        other = recorders("127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 is not a loopback address here")
    # Configured API: 127.0.0.1 on the very port `other` listens on; only the host differs.
    with Inputs(user_id="me", app_id="a", base_url=f"http://127.0.0.1:{other.port}", pat=KEY) as inputs:
        assert fetch(other.url("/x", "127.0.0.2"), inputs._conn, source="caller") == b"content of /x"
    assert other.keys_sent() == [None]


def test_input_data_urls_never_get_the_key(recorders: Callable[[str], Recorder]) -> None:
    api = recorders("127.0.0.1")
    with _client(api) as inputs:
        # Even at the API's own origin: data.image.url is whatever the input's creator set (a URL
        # on the API host would make the victim's client call the API with its key)...
        assert inputs.download_inputs([image_at(api.url("/user-url"))]) == [b"content of /user-url"]
        # ...though the hosted copy, which the API names, does get it.
        assert inputs.download_inputs([hosted_at(api.url("/hosted"))]) == [b"content of /hosted/orig/abc"]
    assert api.seen == [("/user-url", None), ("/hosted/orig/abc", f"Key {KEY}")]


def test_a_redirect_never_carries_the_key(recorders: Callable[[str], Recorder]) -> None:
    api, elsewhere = recorders("127.0.0.1"), recorders("127.0.0.1")
    api.routes["/moved"] = _redirect(elsewhere.url("/landing"))
    api.routes["/moved-here"] = _redirect("/here", 307)
    with _client(api) as inputs:
        assert fetch(api.url("/moved"), inputs._conn, source="api") == b"content of /landing"
        assert fetch(api.url("/moved-here"), inputs._conn, source="api") == b"content of /here"
    assert api.seen == [("/moved", f"Key {KEY}"), ("/moved-here", f"Key {KEY}"), ("/here", None)]
    assert elsewhere.seen == [("/landing", None)]


def test_redirects_to_other_schemes_and_loops_are_refused(recorders: Callable[[str], Recorder]) -> None:
    api = recorders("127.0.0.1")
    api.routes["/to-file"] = _redirect("file:///etc/passwd")
    api.routes["/loop"] = _redirect("/loop")
    with _client(api) as inputs:
        with pytest.raises(ApiClientError, match=r"only http:// and https:// URLs"):
            fetch(api.url("/to-file"), inputs._conn, source="api")
        with pytest.raises(ApiClientError, match="more than 5 redirects"):
            fetch(api.url("/loop"), inputs._conn, source="api")


def test_file_urls_in_input_data_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not copy me")
    with (
        Inputs(user_id="me", app_id="a", base_url="http://127.0.0.1:9", pat=KEY) as inputs,
        pytest.raises(ApiClientError, match=r"only http:// and https://.*file://"),
    ):
        inputs.download_inputs([image_at(secret.as_uri())])


def test_5xx_is_retried_and_the_size_is_capped(recorders: Callable[[str], Recorder]) -> None:
    api = recorders("127.0.0.1")
    failures = iter([True])

    def flaky(handler: http.server.BaseHTTPRequestHandler) -> None:
        code = 503 if next(failures, False) else 200
        body = b"finally"
        handler.send_response(code)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    api.routes["/flaky"] = flaky
    with _client(api) as inputs:
        assert fetch(api.url("/flaky"), inputs._conn, source="caller") == b"finally"
        with pytest.raises(ApiClientError, match="exceeds the limit of 5"):
            fetch(api.url("/big"), inputs._conn, source="caller", max_bytes=5)
    assert [path for path, _ in api.seen] == ["/flaky", "/flaky", "/big"]


def test_messages_do_not_show_url_queries(recorders: Callable[[str], Recorder]) -> None:
    api = recorders("127.0.0.1")

    def missing(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(404)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    api.routes["/gone?X-Amz-Signature=s3cr3t"] = missing
    with _client(api) as inputs, pytest.raises(ApiClientError) as caught:
        fetch(api.url("/gone?X-Amz-Signature=s3cr3t"), inputs._conn, source="caller")
    assert (
        "HTTP 404" in str(caught.value) and "s3cr3t" not in str(caught.value) and KEY not in str(caught.value)
    )


# -- the emulator's hosted content and exports --------------------------------------------------------


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buffer, "PNG")
    return buffer.getvalue()


def test_download_inputs_and_export_from_the_emulators_file_host(
    app: App, emulator: Emulator, tmp_path: Path
) -> None:
    assert emulator.files_url.startswith("http://127.0.0.1:")
    dataset = app.create_dataset("exported")
    inputs = app.inputs()
    inputs.upload_from_bytes("pic", image_bytes=png((0, 9, 200)), dataset_id="exported")
    deadline = time.monotonic() + 15
    while not (listed := [i for i in inputs.list_inputs() if i.data.image.hosted.prefix]):
        assert time.monotonic() < deadline, "the upload was not processed"
        time.sleep(0.02)
    assert listed[0].data.image.hosted.prefix.startswith(emulator.files_url)
    assert not listed[0].data.image.base64  # so the bytes come over HTTP, with the key
    assert inputs.download_inputs(listed) == [png((0, 9, 200))]
    out = dataset.export(str(tmp_path / "out.zip"))  # the archive also comes over HTTP
    with zipfile.ZipFile(out) as archive:
        assert [archive.read(n) for n in archive.namelist()] == [png((0, 9, 200))]
    inputs.close()


def test_export_names_stay_unique_when_ids_sanitise_alike(app: App, tmp_path: Path) -> None:
    dataset = app.create_dataset("collide")
    batch = resources_pb2.InputBatch()
    for input_id in ("a/b", "a_b", "a:b", "A_B", "a_b"):
        batch.inputs.add(id=input_id, data=resources_pb2.Data(text=resources_pb2.Text(raw=input_id)))
    archive = tmp_path / "in.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("mimetype", ARCHIVE_MIMETYPE)
        out.writestr("all/batch_00000_n5", batch.SerializeToString())
    target = dataset.export(str(tmp_path / "out"), local_archive_path=str(archive))
    written = sorted(p for p in target.rglob("*.txt"))
    assert len(written) == 5
    assert sorted(p.read_text() for p in written) == sorted(["a/b", "a_b", "a:b", "A_B", "a_b"])
    assert (target / "all" / "text" / "a_b.txt").read_text() == "a_b"  # a safe id keeps its name


def test_an_archive_not_from_the_api_gets_no_key_for_its_hosted_urls(
    app: App, tmp_path: Path, recorders: Callable[[str], Recorder]
) -> None:
    elsewhere = recorders("127.0.0.1")
    batch = resources_pb2.InputBatch()
    batch.inputs.append(hosted_at(elsewhere.url("/h")))
    archive = tmp_path / "crafted.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("mimetype", ARCHIVE_MIMETYPE)
        out.writestr("all/batch_00000_n1", batch.SerializeToString())
    dataset = app.create_dataset("crafted")
    dataset.export(str(tmp_path / "out"), local_archive_path=str(archive))
    assert elsewhere.seen == [("/h/orig/abc", None)]
