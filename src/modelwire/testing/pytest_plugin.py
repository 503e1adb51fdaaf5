"""The modelwire pytest plugin: emulator fixtures for your own test suite, with no conftest.

Installing modelwire registers it (entry point `pytest11`, name `modelwire.testing.pytest_plugin`;
`-p no:modelwire.testing.pytest_plugin` turns it off). It imports nothing heavy when pytest starts:
the emulator (the `emulator` extra: Pillow, NumPy, PyYAML) and the clients are imported inside
the fixtures, so a missing extra is reported by the first test that uses one, never at start-up.

The fixtures (docs/pytest-plugin.md has the guide):

    modelwire_emulator          session   the Emulator: gRPC + Decthings HTTP on free loopback ports
    modelwire_emulator_options  session   its keyword arguments (override to customise)
    modelwire_emulator_factory  function  start more emulators (**options); stopped after the test
    modelwire_emulator_fresh    function  an emulator of this test's own
    modelwire_backend           function  where clients connect: the emulator, or the live services
    modelwire_env               function  env vars pointing unchanged code there (set via monkeypatch)
    modelwire_faults            function  the emulator's fault injector (faults cleared after each test)
    modelwire_calls             function  the calls the emulator served during this test
    clavata_client / async_clavata_client, clarifai_user / clarifai_app,
    decthings_client / async_decthings_client      ready clients, closed after the test

Tests marked `@pytest.mark.modelwire_live` run against the real services when pytest gets
`--modelwire-live` (or ini `modelwire_live = true`), with the keys from the environment; a test
whose provider key is missing is skipped. Key values are never printed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import pytest

if TYPE_CHECKING:
    from modelwire.clarifai import App, User
    from modelwire.clavata import AsyncClavataClient, ClavataClient
    from modelwire.decthings import DecthingsClient, DecthingsClientSync
    from modelwire.emulator import Emulator
    from modelwire.emulator.faults import CallLog, CallRecord, FaultInjector

__all__ = [
    "EMULATOR_EXTRA_HINT",
    "LIVE_MARKER",
    "Backend",
    "CallWindow",
    "EmulatorExtraMissingError",
    "EmulatorFactory",
    "SecretValue",
]

EMULATOR_EXTRA_HINT = "pip install 'modelwire[emulator]'"
LIVE_MARKER = "modelwire_live"

# The variables each provider's client reads to find the live service: the key(s) it cannot do
# without, then the optional endpoint overrides.
_LIVE_REQUIRED = {
    "Clavata": ("CLAVATA_API_KEY",),
    "Clarifai": ("CLARIFAI_PAT", "CLARIFAI_USER_ID"),
    "Decthings": ("DECTHINGS_API_KEY",),
}
_LIVE_OPTIONAL = (
    "CLAVATA_HOST",
    "CLAVATA_PORT",
    "CLARIFAI_API_BASE",
    "DECTHINGS_HTTP_URL",
    "DECTHINGS_WS_URL",
)
# Every variable that decides where (and with what credential) a client connects. In emulator mode
# those the emulator does not set are removed, so unchanged code never reaches a real service
# with a real key from the developer's shell.
_CONNECTION_VARS = (
    "CLAVATA_EMULATOR_HOST",
    "CLAVATA_API_KEY",
    "CLAVATA_HOST",
    "CLAVATA_PORT",
    "CLARIFAI_PAT",
    "CLARIFAI_SESSION_TOKEN",
    "CLARIFAI_API_KEY",  # the legacy ClarifaiApp reads it before CLARIFAI_PAT
    "CLARIFAI_API_BASE",
    "CLARIFAI_USER_ID",
    "DECTHINGS_API_KEY",
    "DECTHINGS_HTTP_URL",
    "DECTHINGS_WS_URL",
)
_SECRET_SUFFIXES = ("_KEY", "_PAT", "_TOKEN")
_SECRET_ARGUMENTS = ("auth_token", "pat", "token", "api_key")


class EmulatorExtraMissingError(ImportError):
    """The emulator's dependencies (the `emulator` extra) are not installed."""


def _emulator_class() -> type[Emulator]:
    from modelwire.errors import MissingExtraError

    try:
        from modelwire.emulator import Emulator
    except MissingExtraError as exc:  # the core names the extra and the missing package
        raise EmulatorExtraMissingError(
            f"the modelwire emulator fixtures need the emulator extra: {EMULATOR_EXTRA_HINT} "
            f"(missing: {exc.name})"
        ) from None
    return Emulator


# Emulators the plugin started and has not stopped yet: their faults are cleared after each test.
_running: list[Emulator] = []
_running_lock = threading.Lock()


class EmulatorFactory:
    """Starts emulators (loopback, free ports) with `base` options updated by each call's, and
    stops them all on `close()` / leaving `with`. The fixtures use it; it works outside pytest."""

    def __init__(self, base: Mapping[str, Any] | None = None) -> None:
        self.base = dict(base or {})
        self.started: list[Emulator] = []

    def __call__(self, **options: Any) -> Emulator:
        emulator = _emulator_class()(**{**self.base, **options}).start()
        self.started.append(emulator)
        with _running_lock:
            _running.append(emulator)
        return emulator

    def close(self) -> None:
        """Stop every emulator this factory started, newest first."""
        while self.started:
            emulator = self.started.pop()
            with _running_lock:
                if emulator in _running:
                    _running.remove(emulator)
            emulator.stop()

    def __enter__(self) -> EmulatorFactory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CallWindow:
    """The calls an emulator served from when the window opened (so: one test's calls, on a
    session-wide emulator). The same questions as `Emulator.calls`, answered for the window."""

    def __init__(self, log: CallLog) -> None:
        self.log = log
        self.since = time.monotonic()

    def records(self, method: str | None = None) -> list[CallRecord]:
        """Calls of `method` (a name, full path or glob; all when None), oldest first."""
        return [r for r in self.log.records(method) if r.started >= self.since]

    def counts(self) -> Counter[str]:
        """Calls in the window by method name (e.g. "Evaluate", "Model.evaluate" for Decthings)."""
        return Counter(r.method.rsplit("/", 1)[-1] for r in self.records())

    def wait_for(self, method: str, code: str, *, count: int = 1, timeout: float = 5.0) -> list[CallRecord]:
        """Block until `count` calls of `method` in the window have finished with `code`."""
        deadline = time.monotonic() + timeout
        while True:
            finished = self.log.wait_for(method, code, count=1 << 62, timeout=0)
            mine = [r for r in finished if r.started >= self.since]
            left = deadline - time.monotonic()
            if len(mine) >= count or left <= 0:
                return mine
            self.log.wait_for(method, code, count=len(finished) + 1, timeout=left)

    def __len__(self) -> int:
        return len(self.records())

    def __repr__(self) -> str:
        return f"CallWindow({dict(self.counts())!r})"


class SecretValue(str):
    """A credential in the fixtures' dicts: the string itself, shown as '***' by repr(), so no
    assertion message, `--showlocals` dump or dict diff in a test report contains a key."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


def _masked(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: SecretValue(value)
        if isinstance(value, str) and (name in _SECRET_ARGUMENTS or name.endswith(_SECRET_SUFFIXES))
        else value
        for name, value in values.items()
    }


def _live_skip(provider: str) -> None:
    missing = [name for name in _LIVE_REQUIRED[provider] if not os.environ.get(name, "").strip()]
    if missing:
        pytest.skip(
            f"modelwire live: {', '.join(missing)} not set, so this test cannot run against the "
            f"real {provider} service (set {' and '.join(_LIVE_REQUIRED[provider])}, or run without "
            "--modelwire-live to use the emulator)"
        )


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


class Backend:
    """Where a test's clients connect: the emulator (`emulator` set) or, in live mode, the real
    services with the keys from the environment. The `*_kwargs()` give each client's constructor
    arguments; in live mode they skip the test when the provider's key is not set."""

    def __init__(self, emulator: Emulator | None) -> None:
        self.emulator = emulator

    @property
    def live(self) -> bool:
        """True when the clients go to the real services (no emulator)."""
        return self.emulator is None

    def _emu(self) -> Emulator:
        assert self.emulator is not None
        return self.emulator

    def clavata_kwargs(self) -> dict[str, Any]:
        """Arguments of ClavataClient / AsyncClavataClient (and clavata-sdk's ClavataClient)."""
        if self.live:
            from modelwire.clavata.client import DEFAULT_HOST

            _live_skip("Clavata")
            # An explicit host: a CLAVATA_EMULATOR_HOST left in the shell must not win.
            return _masked(
                {"host": _env("CLAVATA_HOST") or DEFAULT_HOST, "auth_token": _env("CLAVATA_API_KEY")}
            )
        emu = self._emu()
        return _masked({"host": emu.host, "port": emu.port, "auth_token": emu.api_key})

    def clarifai_kwargs(self) -> dict[str, Any]:
        """Arguments of User / App / Model ... (user_id, base_url, pat)."""
        if self.live:
            from modelwire.clarifai._auth import DEFAULT_BASE

            _live_skip("Clarifai")
            return _masked(
                {
                    "user_id": _env("CLARIFAI_USER_ID"),
                    "base_url": _env("CLARIFAI_API_BASE") or DEFAULT_BASE,
                    "pat": _env("CLARIFAI_PAT"),
                }
            )
        emu = self._emu()
        return _masked({"user_id": emu.user_id, "base_url": f"http://{emu.address}", "pat": emu.api_key})

    def decthings_kwargs(self) -> dict[str, Any]:
        """Arguments of DecthingsClient / DecthingsClientSync."""
        if self.live:
            _live_skip("Decthings")
            kwargs: dict[str, Any] = {"api_key": _env("DECTHINGS_API_KEY")}
            if _env("DECTHINGS_HTTP_URL"):
                kwargs["http_server_address"] = _env("DECTHINGS_HTTP_URL")
                kwargs["ws_server_address"] = _env("DECTHINGS_WS_URL")
            return _masked(kwargs)
        # The WebSocket address follows from the HTTP one (emu.decthings_ws_url), so a test that
        # overrides http_server_address moves both.
        emu = self._emu()
        return _masked({"api_key": emu.api_key, "http_server_address": emu.decthings_url})

    def environment(self) -> tuple[dict[str, str], tuple[str, ...]]:
        """The variables to set, and those to remove, so that code reading the clients' usual
        environment variables connects here."""
        if self.live:
            if not any(_env(names[0]) for names in _LIVE_REQUIRED.values()):
                keys = ", ".join(names[0] for names in _LIVE_REQUIRED.values())
                pytest.skip(
                    f"modelwire live: none of {keys} is set, so nothing can run against a real service"
                )
            names = [n for required in _LIVE_REQUIRED.values() for n in required] + list(_LIVE_OPTIONAL)
            values = _masked({name: value for name in names if (value := _env(name))})
            return values, ("CLAVATA_EMULATOR_HOST",)
        values = _masked(self._emu().client_env())
        return values, tuple(name for name in _CONNECTION_VARS if name not in values)

    def __repr__(self) -> str:
        return "Backend(live services)" if self.live else f"Backend(emulator at {self._emu().address})"


# -- options, marker, report header ----------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("modelwire", "modelwire emulator fixtures")
    group.addoption(
        "--modelwire-live",
        action="store_true",
        default=None,
        help="run tests marked modelwire_live against the real services, with the keys from the "
        "environment (CLAVATA_API_KEY, CLARIFAI_PAT + CLARIFAI_USER_ID, DECTHINGS_API_KEY)",
    )
    group.addoption(
        "--modelwire-api-key",
        default=None,
        help="the key the plugin's emulators accept (default: one generated per session)",
    )
    group.addoption("--modelwire-user-id", default=None, help="the emulator's Clarifai user id (demo)")
    group.addoption(
        "--modelwire-clavata-policies",
        default=None,
        help="a Clavata policies YAML file for the emulator (default: the shipped demo policies)",
    )
    parser.addini("modelwire_live", "as --modelwire-live", type="bool", default=False)
    parser.addini("modelwire_api_key", "as --modelwire-api-key", default="")
    parser.addini("modelwire_user_id", "as --modelwire-user-id", default="")
    parser.addini(
        "modelwire_clavata_policies", "as --modelwire-clavata-policies (relative to the ini file)", default=""
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{LIVE_MARKER}: with --modelwire-live, the modelwire fixtures connect this test to the real "
        "services (keys from the environment; skipped when a key is missing)",
    )


def _live_mode(config: pytest.Config) -> bool:
    option = config.getoption("modelwire_live", None)
    return bool(option) if option is not None else bool(config.getini("modelwire_live"))


def _setting(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(name, None) or config.getini(name)
    return str(value) if value else None


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _live_mode(config):
        return None
    status = []
    for provider, names in _LIVE_REQUIRED.items():
        missing = [name for name in names if not _env(name)]
        status.append(f"{provider} " + (f"skipped ({', '.join(missing)} not set)" if missing else "live"))
    return f"modelwire: tests marked {LIVE_MARKER} run against the real services: " + "; ".join(status)


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def modelwire_emulator_options(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Keyword arguments of every emulator the plugin starts (see `Emulator`). Override this
    fixture in a conftest to change them, e.g. `{**modelwire_emulator_options, "db": path}`."""
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "http_port": 0,
        "api_key": _setting(pytestconfig, "modelwire_api_key") or "mw-test-" + secrets.token_hex(8),
    }
    user_id = _setting(pytestconfig, "modelwire_user_id")
    if user_id:
        options["user_id"] = user_id
    policies = pytestconfig.getoption("modelwire_clavata_policies", None)
    if policies:  # relative to where pytest was started, as any command-line path
        options["clavata_policies"] = pytestconfig.invocation_params.dir / Path(policies)
    elif pytestconfig.getini("modelwire_clavata_policies"):
        base = pytestconfig.inipath.parent if pytestconfig.inipath else pytestconfig.rootpath
        options["clavata_policies"] = base / str(pytestconfig.getini("modelwire_clavata_policies"))
    return options


_T = TypeVar("_T")


def _or_fail(call: Callable[[], _T]) -> _T:
    """call(); a missing emulator extra fails the test with just the message (no traceback)."""
    try:
        return call()
    except EmulatorExtraMissingError as exc:
        message = str(exc)
    pytest.fail(message, pytrace=False)  # outside `except`: no chained exception in the report


@pytest.fixture(scope="session")
def modelwire_emulator(modelwire_emulator_options: dict[str, Any]) -> Iterator[Emulator]:
    """One emulator for the session (Clavata + Clarifai gRPC, Decthings HTTP/WebSocket)."""
    with EmulatorFactory(modelwire_emulator_options) as start:
        yield _or_fail(start)


@pytest.fixture
def modelwire_emulator_factory(modelwire_emulator_options: dict[str, Any]) -> Iterator[EmulatorFactory]:
    """`factory(**options)` starts another emulator (options over modelwire_emulator_options);
    every one is stopped after the test."""
    _or_fail(_emulator_class)  # the missing extra is reported here, not at the first call
    with EmulatorFactory(modelwire_emulator_options) as factory:
        yield factory


@pytest.fixture
def modelwire_emulator_fresh(modelwire_emulator_factory: EmulatorFactory) -> Emulator:
    """An emulator of this test's own (empty store), stopped after it."""
    return modelwire_emulator_factory()


@pytest.fixture(autouse=True)
def _modelwire_clear_faults() -> Iterator[None]:
    yield
    with _running_lock:
        running = list(_running)
    for emulator in running:
        emulator.faults.clear()


def _is_live(item: pytest.Item) -> bool:
    return _live_mode(item.config) and item.get_closest_marker(LIVE_MARKER) is not None


@pytest.fixture
def modelwire_backend(request: pytest.FixtureRequest) -> Backend:
    """The session emulator, or (a test marked modelwire_live, with --modelwire-live) the real
    services. The client fixtures and modelwire_env are built from it."""
    if _is_live(request.node):
        return Backend(None)
    emulator: Emulator = request.getfixturevalue("modelwire_emulator")
    return Backend(emulator)


def _emulator_only(backend: Backend, what: str) -> Emulator:
    if backend.emulator is None:
        pytest.skip(f"modelwire live: {what} exists only in the emulator; this test cannot run live")
    return backend.emulator


@pytest.fixture
def modelwire_faults(modelwire_backend: Backend) -> FaultInjector:
    """The emulator's fault injector: `modelwire_faults.add("GetJob", grpc.StatusCode.UNAVAILABLE,
    times=2)`. Injected faults are cleared after every test."""
    return _emulator_only(modelwire_backend, "fault injection").faults


@pytest.fixture
def modelwire_calls(modelwire_backend: Backend) -> CallWindow:
    """The calls the emulator served during this test (from this fixture's set-up)."""
    return CallWindow(_emulator_only(modelwire_backend, "the call log").calls)


@pytest.fixture
def modelwire_env(modelwire_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment that points code using the clients' usual variables (CLAVATA_*,
    CLARIFAI_*, DECTHINGS_*) at the backend, applied for this test; returned as a dict."""
    values, unset = modelwire_backend.environment()
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def clavata_client(modelwire_backend: Backend) -> Iterator[ClavataClient]:
    """A ClavataClient on the backend, closed after the test."""
    from modelwire.clavata import ClavataClient

    with ClavataClient(**modelwire_backend.clavata_kwargs()) as client:
        yield client


@pytest.fixture
def clarifai_user(modelwire_backend: Backend) -> Iterator[User]:
    """The Clarifai User of the backend's key (the emulator's user, `demo` by default)."""
    from modelwire.clarifai import User

    with User(**modelwire_backend.clarifai_kwargs()) as user:
        yield user


@pytest.fixture
def clarifai_app(clarifai_user: User) -> Iterator[App]:
    """A fresh Clarifai app for this test, deleted after it."""
    from modelwire._core.errors import NotFoundError

    app = clarifai_user.create_app(f"test-{uuid.uuid4().hex[:12]}")
    yield app
    with contextlib.suppress(NotFoundError):  # the test may have deleted it
        clarifai_user.delete_app(app.id)


@pytest.fixture
def decthings_client(modelwire_backend: Backend) -> Iterator[DecthingsClientSync]:
    """A DecthingsClientSync on the backend, closed after the test."""
    from modelwire.decthings import DecthingsClientSync

    with DecthingsClientSync(**modelwire_backend.decthings_kwargs()) as client:
        yield client


if TYPE_CHECKING or importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def async_clavata_client(modelwire_backend: Backend) -> AsyncIterator[AsyncClavataClient]:
        """An AsyncClavataClient on the backend, closed after the test (needs pytest-asyncio)."""
        from modelwire.clavata import AsyncClavataClient

        async with AsyncClavataClient(**modelwire_backend.clavata_kwargs()) as client:
            yield client

    @pytest_asyncio.fixture
    async def async_decthings_client(modelwire_backend: Backend) -> AsyncIterator[DecthingsClient]:
        """A DecthingsClient (async) on the backend, closed after the test (needs pytest-asyncio)."""
        from modelwire.decthings import DecthingsClient

        async with DecthingsClient(**modelwire_backend.decthings_kwargs()) as client:
            yield client

else:

    def _needs_pytest_asyncio(name: str, build: str) -> NoReturn:
        pytest.fail(
            f"{name} is an async fixture: install pytest-asyncio (pip install pytest-asyncio), or "
            f"build the client in your own async fixture: {build}",
            pytrace=False,
        )

    @pytest.fixture
    def async_clavata_client() -> Any:
        """An AsyncClavataClient (needs pytest-asyncio, which is not installed)."""
        _needs_pytest_asyncio(
            "async_clavata_client", "AsyncClavataClient(**modelwire_backend.clavata_kwargs())"
        )

    @pytest.fixture
    def async_decthings_client() -> Any:
        """A DecthingsClient (needs pytest-asyncio, which is not installed)."""
        _needs_pytest_asyncio(
            "async_decthings_client", "DecthingsClient(**modelwire_backend.decthings_kwargs())"
        )
