"""The Clarifai emulator's file host: hosted copies of input content and dataset export archives
over HTTP, like the real API's https URLs (which clients fetch with an ordinary HTTP GET).

    GET /hosted/orig/<sha256>     the stored bytes of an input's content (from the database)
    GET /exports/<name>.zip       an export archive written by `datasets` (under the files directory)

Every request needs a key of this emulator (`Authorization: Key <PAT or app key>`, or
`X-Clarifai-Session-Token`), as the real hosted content of a private app does; otherwise 401.
Nothing else is served: names are matched exactly (64 hex digits; a plain archive file name), so
no path can reach outside the emulator's own data. It runs on the emulator's host, any free port,
from daemon threads; slow clients are cut off after `REQUEST_TIMEOUT` seconds.
"""

from __future__ import annotations

import http.server
import logging
import re
import shutil
import socket
import threading
from typing import Any

from modelwire.emulator.clarifai.auth import KeyRing
from modelwire.emulator.clarifai.content import Files, Hosting
from modelwire.emulator.clarifai.failures import ApiFailure

log = logging.getLogger("modelwire.emulator")

REQUEST_TIMEOUT = 15.0
_HOSTED = re.compile(r"/hosted/orig/([0-9a-f]{64})")
_EXPORT = re.compile(r"/exports/([A-Za-z0-9][A-Za-z0-9._-]{0,200}\.zip)")
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def advertised_host(host: str) -> str:
    """The host to put in URLs: a wildcard bind address is reached through loopback."""
    return _WILDCARDS.get(host, host)


class FilesServer:
    def __init__(self, hosting: Hosting, files: Files, keys: KeyRing) -> None:
        self._hosting = hosting
        self._files = files
        self._keys = keys
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def start(self, host: str, port: int = 0) -> str:
        """Serve on host:port (0 = any free port); returns the base URL. OSError if it cannot bind."""
        if self._server is not None:
            return self.base_url
        outer = self

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

        class Handler(_Handler):
            files_server = outer

        server = Server((host, port), Handler)
        shown = advertised_host(host)
        shown = f"[{shown}]" if ":" in shown else shown
        self.base_url = f"http://{shown}:{server.server_address[1]}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="clarifai-files", kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()
        log.info("clarifai emulator: hosted content and exports at %s", self.base_url)
        return self.base_url

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def authorized(self, headers: Any) -> bool:
        metadata = {}
        if headers.get("Authorization") is not None:
            metadata["authorization"] = headers["Authorization"]
        if headers.get("X-Clarifai-Session-Token") is not None:
            metadata["x-clarifai-session-token"] = headers["X-Clarifai-Session-Token"]
        try:
            self._keys.identify(metadata)
        except ApiFailure:
            return False
        return True

    def hosted(self, sha: str) -> bytes | None:
        return self._hosting.blob(sha)

    def export_path(self, name: str) -> Any:
        folder = self._files.directory("exports")
        path = folder / name
        # The pattern already rules out separators; this also refuses a symlink planted there.
        if path.is_symlink() or not path.is_file() or path.resolve().parent != folder.resolve():
            return None
        return path


class _Handler(http.server.BaseHTTPRequestHandler):
    files_server: FilesServer
    timeout = REQUEST_TIMEOUT
    server_version = "modelwire-clarifai-files"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("clarifai files: " + format, *args)

    def _text(self, code: int, text: str, extra: dict[str, str] | None = None) -> None:
        body = (text + "\n").encode()
        self.send_response(code)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        hosted, export = _HOSTED.fullmatch(path), _EXPORT.fullmatch(path)
        if hosted is None and export is None:
            self._text(404, "not found: this server has /hosted/orig/<sha256> and /exports/<name>.zip")
            return
        if not self.files_server.authorized(self.headers):
            self._text(
                401,
                "unauthorized: send 'Authorization: Key <PAT>' with a key of this emulator",
                {"WWW-Authenticate": 'Key realm="clarifai"'},
            )
            return
        if hosted is not None:
            data = self.files_server.hosted(hosted.group(1))
            if data is None:
                self._text(404, "no such content (deleted?)")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            return
        assert export is not None
        file = self.files_server.export_path(export.group(1))
        if file is None:
            self._text(404, "no such export (expired? put the export again)")
            return
        with open(file, "rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(0)
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command != "HEAD":
                shutil.copyfileobj(handle, self.wfile)

    def _refuse(self) -> None:
        self._text(405, "only GET is served here", {"Allow": "GET, HEAD", "Connection": "close"})

    do_POST = do_PUT = do_DELETE = do_PATCH = _refuse
