"""Endpoint and credential resolution: argument > environment > default.

TLS is the default. Plaintext is used only when the caller asks (`secure=False`) or when the
endpoint is the emulator: named by a `<PROVIDER>_EMULATOR_HOST` variable, or a loopback host with
`secure` left unset. Either case is logged once, so nobody silently talks plaintext to production;
an emulator variable naming a non-loopback host is a WARNING (keys would cross the network in clear).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass

from modelwire._core.errors import ConfigurationError, ModelwireError, UsageError

log = logging.getLogger("modelwire")

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback addresses (127.0.0.0/8, ::1)."""
    bare = host.strip("[]").lower()
    if bare in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


def first_set(*values: str | None) -> str | None:
    """The first value that is neither None nor empty (argument, then env, then default)."""
    return next((v for v in values if v), None)


def env(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value and value.strip() else None


class Secret:
    """A credential that never shows itself in reprs, logs or error messages.

    Keys travel in headers, so only printable ASCII is accepted: a stray newline or a non-ASCII
    character would otherwise surface later as gRPC's opaque "INTERNAL: Invalid metadata".
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise ConfigurationError(f"credentials must be a string, got {type(value).__name__}")
        stripped = value.strip()
        bad = next((i for i, ch in enumerate(stripped) if not " " <= ch <= "~"), None)
        if bad is not None:
            # Position and code point only: the key itself must never appear in the message.
            raise ConfigurationError(
                f"the API key has an invalid character (code point U+{ord(stripped[bad]):04X} at "
                f"position {bad}); keys are printable ASCII: check for a pasted newline or space"
            )
        self._value = stripped

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def redact(text: str, secrets: Iterable[Secret]) -> str:
    """Replace every occurrence of a secret (longer than 3 chars) in text with ***."""
    for secret in secrets:
        value = secret.reveal()
        if len(value) > 3 and value in text:
            text = text.replace(value, "***")
    return text


MAX_TIMEOUT = 365 * 24 * 3600.0


def is_int_at_least(value: object, minimum: int) -> bool:
    """True for an int (not a bool, which Python counts as one) of at least `minimum`."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def check_timeout(
    value: object, *, what: str = "timeout", error: type[ModelwireError] = UsageError
) -> float | None:
    """`value` as a positive, finite number of seconds (None = no deadline), else `error`.

    Constructors pass `error=ConfigurationError`; per-call arguments keep the default UsageError.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error(
            f"{what} must be a number of seconds (or None for no deadline), got {type(value).__name__}"
        )
    if not math.isfinite(value) or value <= 0:
        raise error(
            f"{what} must be a positive, finite number of seconds (or None for no deadline), got {value!r}"
        )
    if value > MAX_TIMEOUT:
        # Beyond what thread waits and gRPC deadlines can represent (OverflowError deep inside).
        raise error(f"{what} must be at most a year of seconds, got {value!r}; pass None for no deadline")
    return float(value)


def split_host_port(value: str, *, what: str) -> tuple[str, int]:
    """Parse "host:port" or "[v6]:port"."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigurationError(f"{what}={value!r} is not host:port (for example 127.0.0.1:50051)")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class Endpoint:
    """Where a gRPC client connects, and whether with TLS."""

    host: str
    port: int
    secure: bool

    @property
    def target(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def warn_if_plaintext_remote(host: str, *, what: str) -> None:
    """Log a WARNING when credentials are about to travel unencrypted to a non-loopback host."""
    if not is_loopback(host):
        log.warning(
            "modelwire: %s points at %s, which is not a loopback host: credentials will be sent over "
            "plaintext (no TLS) across the network; use TLS, or an emulator on 127.0.0.1",
            what,
            host,
        )


def _check_port(raw: object) -> int:
    """An int or digit string in 1-65535 (a float or bool is a mistake, not a port)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        port = raw
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        port = int(raw.strip())
    else:
        raise ConfigurationError(f"port={raw!r} is not an integer port number")
    if not 0 < port < 65536:
        raise ConfigurationError(f"port={port} is out of range 1-65535")
    return port


def resolve_endpoint(
    *,
    host: str | None,
    port: int | str | None,
    secure: bool | None,
    provider: str,
    default_host: str,
    default_port: int,
) -> Endpoint:
    """Resolve an endpoint for `provider` (its env prefix, e.g. "CLAVATA").

    Order: explicit host/port > `<P>_EMULATOR_HOST` (plaintext) > `<P>_HOST`/`<P>_PORT` > defaults.
    """
    if host is not None and (not isinstance(host, str) or not host.strip()):
        # None means "environment or default"; an explicit empty host is a mistake, not production.
        raise ConfigurationError(
            f"host={host!r} is empty: pass a host name (e.g. 127.0.0.1), or leave host unset to use "
            f"{provider}_HOST / {provider}_EMULATOR_HOST or the default {default_host}"
        )
    emulator = env(f"{provider}_EMULATOR_HOST")
    if host is None and emulator:
        emu_host, emu_port = split_host_port(emulator, what=f"{provider}_EMULATOR_HOST")
        if not secure:
            warn_if_plaintext_remote(emu_host, what=f"{provider}_EMULATOR_HOST")
        log.info("modelwire: %s_EMULATOR_HOST set; using the emulator at %s (plaintext)", provider, emulator)
        return Endpoint(emu_host, _check_port(port) if port is not None else emu_port, bool(secure))
    resolved_host = first_set(host, env(f"{provider}_HOST"), default_host) or default_host
    raw_port = port if port is not None else first_set(env(f"{provider}_PORT")) or default_port
    resolved_port = _check_port(raw_port)
    if secure is None:
        secure = not is_loopback(resolved_host)
        if not secure:
            log.info(
                "modelwire: %s is a loopback host; using plaintext (pass secure=True for TLS)", resolved_host
            )
    return Endpoint(resolved_host, resolved_port, secure)


def resolve_secret(value: str | None, env_name: str, *, what: str, how: str) -> Secret:
    """The credential from the argument, else the environment; a clear error when neither is set."""
    chosen = first_set(value, env(env_name))
    if not chosen:
        raise ConfigurationError(f"No {what} was given: {how}, or set the {env_name} environment variable.")
    return Secret(chosen)
