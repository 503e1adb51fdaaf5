"""Client-side downloads of hosted content and export archives, without leaking the PAT.

Every helper that fetches content (`Inputs.download_inputs`, `Dataset.export`, a model version's
training log) goes through `fetch`. The rules:

* Only ``http://`` and ``https://`` URLs are fetched, redirect targets included (no ``file://``,
  ``ftp://``, ``data:``): a URL taken from input data must not make the client read local files.
* The credential (``Authorization: Key <PAT>``, or the session token) is sent only to exact
  origins (scheme, host, port), by where the URL came from (`Source`): a URL the API itself named
  (a ``data.<kind>.hosted`` prefix, an export URL it returned) may get it; a URL the caller passed
  only when it is the configured API's origin; a URL from input data (``data.image.url``, set by
  whoever created the input) never. Only over TLS, except to a loopback host (the emulator).
* Redirects are followed by hand (at most 5) and never carry the credential.
* 5xx answers and connection failures are retried (3 attempts in all, jittered backoff); the body
  is capped at `MAX_DOWNLOAD_BYTES` and the whole download at one overall deadline.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any, Literal

from modelwire._core.config import is_loopback
from modelwire._core.retry import Deadline, RetryPolicy
from modelwire.clarifai.errors import ApiClientError

MAX_DOWNLOAD_BYTES = 2 * 2**30  # export archives can be large; beyond this, ask for a smaller export
DOWNLOAD_TIMEOUT = 600.0  # seconds for one whole download, retries included
READ_TIMEOUT = 60.0  # seconds any single socket operation may take
MAX_REDIRECTS = 5
_ATTEMPTS = RetryPolicy(max_attempts=3, initial_backoff=0.2, max_backoff=2.0)
_CHUNK = 1 << 20

# Where a URL came from: "api" (named by the API), "caller" (passed by the user of the SDK),
# "input" (taken from input data).
Source = Literal["api", "caller", "input"]


@dataclass(frozen=True)
class Origin:
    """Where a URL's requests go: scheme, lower-case host and port (defaults filled in)."""

    scheme: str
    host: str
    port: int


def shown(url: str) -> str:
    """A URL for messages: no query or userinfo, which may carry signatures or credentials."""
    try:
        parts = urllib.parse.urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "<malformed URL>"
    if not parts.scheme:
        return url[:80]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))[:200]


def origin(url: str) -> Origin:
    """The origin of an http(s) URL; ApiClientError for any other scheme or a malformed URL."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ApiClientError(f"cannot download {shown(url)}: malformed URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ApiClientError(
            f"cannot download {shown(url)}: only http:// and https:// URLs are downloaded "
            f"(got {scheme + '://' if scheme else 'no scheme'}); read local files yourself"
        )
    if not parts.hostname:
        raise ApiClientError(f"cannot download {shown(url)}: the URL has no host")
    return Origin(scheme, parts.hostname.rstrip(".").lower(), port or (443 if scheme == "https" else 80))


def api_origin(connection: Any) -> Origin:
    """The origin of the configured API endpoint."""
    endpoint = connection.endpoint
    return Origin("https" if endpoint.secure else "http", endpoint.host.rstrip(".").lower(), endpoint.port)


def may_send_key(url: str, trusted: Iterable[Origin]) -> bool:
    """True when the credential may go with a request to `url`: its origin is exactly one of
    `trusted`, and the request is encrypted or stays on the machine (loopback http)."""
    target = origin(url)
    if target not in set(trusted):
        return False
    return target.scheme == "https" or is_loopback(target.host)


def _credential_headers(connection: Any) -> dict[str, str]:
    credentials = connection.credentials
    if credentials.pat is not None:
        return {"Authorization": f"Key {credentials.pat.reveal()}"}
    if credentials.token is not None:
        return {"X-Clarifai-Session-Token": credentials.token.reveal()}
    return {}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hand every 3xx back to `fetch` (as an HTTPError), which decides what to follow."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(target: Origin) -> urllib.request.OpenerDirector:
    # A loopback request never goes through a proxy: an http proxy would see the credential.
    proxies = urllib.request.ProxyHandler({} if is_loopback(target.host) else None)
    return urllib.request.build_opener(proxies, _NoRedirects())


class _Retry(Exception):
    """A failure worth another attempt (5xx, connection trouble); its message is safe to show."""


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


def _read(response: IO[bytes], url: str, max_bytes: int, deadline: Deadline) -> bytes:
    length = response.headers.get("Content-Length")  # type: ignore[attr-defined]
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        raise ApiClientError(f"cannot download {shown(url)}: {length} bytes exceeds the limit of {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    while True:
        remaining = deadline.remaining()
        if remaining is not None and remaining <= 0:
            raise ApiClientError(f"cannot download {shown(url)}: it did not finish within the time limit")
        chunk = response.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise ApiClientError(
                f"cannot download {shown(url)}: it is larger than the limit of {max_bytes} bytes"
            )
        chunks.append(chunk)


def _get(url: str, headers: dict[str, str], max_bytes: int, deadline: Deadline) -> bytes:
    """One GET; raises _Redirect for a 3xx, _Retry for what may pass, ApiClientError otherwise."""
    remaining = deadline.remaining()
    timeout = READ_TIMEOUT if remaining is None else max(0.01, min(READ_TIMEOUT, remaining))
    request = urllib.request.Request(url, headers=headers)
    try:
        with _opener(origin(url)).open(request, timeout=timeout) as response:
            return _read(response, url, max_bytes, deadline)
    except urllib.error.HTTPError as exc:
        with exc:
            code, location = exc.code, exc.headers.get("Location")
        if 300 <= code < 400 and location:
            raise _Redirect(urllib.parse.urljoin(url, location)) from None
        if code >= 500:
            raise _Retry(f"HTTP {code}") from None
        hint = " (the credential is sent only to the API's own hosts)" if code in (401, 403) else ""
        raise ApiClientError(f"cannot download {shown(url)}: HTTP {code} {exc.reason}{hint}") from None
    except urllib.error.URLError as exc:
        raise _Retry(str(exc.reason)) from None
    except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, truncated bodies
        raise _Retry(str(exc) or type(exc).__name__) from None


def trusted_origins(url: str, connection: Any, source: Source) -> set[Origin]:
    """The origins that may receive the credential when fetching `url` from `source`."""
    target = origin(url)  # also refuses non-http(s) URLs up front
    if source == "input":
        return set()
    if source == "caller":
        return {api_origin(connection)}
    return {api_origin(connection), target}


def fetch(
    url: str,
    connection: Any,
    *,
    source: Source,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: float = DOWNLOAD_TIMEOUT,
) -> bytes:
    """The bytes at `url`; `source` says where the URL came from, which decides whether the
    credential goes with it (see the module docstring)."""
    trusted = trusted_origins(url, connection, source)
    deadline = Deadline(timeout)
    attempt = 0
    while True:
        attempt += 1
        try:
            return _follow(url, connection, trusted, max_bytes, deadline)
        except _Retry as exc:
            remaining = deadline.remaining()
            wait = _ATTEMPTS.backoff(attempt)
            if attempt >= _ATTEMPTS.max_attempts or (remaining is not None and wait >= remaining):
                raise ApiClientError(
                    f"cannot download {shown(url)}: {exc} (after {attempt} attempt(s))"
                ) from None
            time.sleep(wait)


def _follow(url: str, connection: Any, trusted: set[Origin], max_bytes: int, deadline: Deadline) -> bytes:
    current = url
    for hop in range(MAX_REDIRECTS + 1):
        headers = {"User-Agent": "modelwire"}
        # The credential goes only on the first request: a redirect may point anywhere.
        if hop == 0 and may_send_key(current, trusted):
            headers.update(_credential_headers(connection))
        try:
            return _get(current, headers, max_bytes, deadline)
        except _Redirect as redirect:
            origin(redirect.location)  # refuse file://, ftp://, ... before following
            current = redirect.location
    raise ApiClientError(f"cannot download {shown(url)}: more than {MAX_REDIRECTS} redirects")
