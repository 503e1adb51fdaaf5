"""Endpoint and credential resolution: explicit mistakes are refused, plaintext off loopback warns."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

from modelwire._core.config import Secret, check_timeout, resolve_endpoint
from modelwire._core.errors import ConfigurationError, UsageError
from modelwire.clarifai._auth import endpoint_from_base_url


def _resolve(**kwargs: Any) -> Any:
    args = {"host": None, "port": None, "secure": None, "provider": "ACME", "default_host": "api.acme.test"}
    return resolve_endpoint(**{**args, **kwargs}, default_port=443)


@pytest.mark.parametrize("host", ["", " ", "\t\n"])
def test_an_explicit_blank_host_is_refused(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACME_EMULATOR_HOST", raising=False)
    with pytest.raises(ConfigurationError, match="is empty") as caught:
        _resolve(host=host)
    assert "ACME_HOST" in str(caught.value)  # says how to get the default instead


def test_none_host_still_means_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACME_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("ACME_HOST", raising=False)
    assert _resolve().host == "api.acme.test"
    monkeypatch.setenv("ACME_HOST", "other.acme.test")
    assert _resolve().host == "other.acme.test"


@pytest.mark.parametrize("target", ["10.0.0.7:50051", "emulator.internal:9000", "[2001:db8::1]:50051"])
def test_an_emulator_variable_off_loopback_warns_about_plaintext(
    target: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ACME_EMULATOR_HOST", target)
    with caplog.at_level(logging.DEBUG, logger="modelwire"):
        endpoint = _resolve()
    assert not endpoint.secure
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "ACME_EMULATOR_HOST" in warned[0] and "plaintext" in warned[0]


@pytest.mark.parametrize("target", ["127.0.0.1:50051", "localhost:1", "[::1]:2"])
def test_an_emulator_variable_on_loopback_does_not_warn(
    target: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ACME_EMULATOR_HOST", target)
    with caplog.at_level(logging.DEBUG, logger="modelwire"):
        _resolve()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_an_emulator_variable_with_secure_true_does_not_warn(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ACME_EMULATOR_HOST", "emulator.internal:9000")
    with caplog.at_level(logging.DEBUG, logger="modelwire"):
        assert _resolve(secure=True).secure
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_clarifai_http_base_url_off_loopback_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="modelwire"):
        endpoint_from_base_url("http://user:hunter2@clarifai.internal:8080")
        endpoint_from_base_url("http://127.0.0.1:8080")
        endpoint_from_base_url("https://api.clarifai.com")
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "clarifai.internal" in warned[0] and "plaintext" in warned[0]
    assert "hunter2" not in caplog.text  # userinfo in the URL is not logged


@pytest.mark.parametrize("value", ["a\nb", "a\r\nb", "a\x7fb", "ключ", "a\u2028b", "a\x00"])
def test_a_secret_with_a_character_invalid_in_a_header_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="invalid character") as caught:
        Secret(value)
    assert value not in str(caught.value)


def test_a_secret_keeps_printable_ascii_and_strips_outer_whitespace() -> None:
    assert Secret("  k-1_2.3~x y \n").reveal() == "k-1_2.3~x y"


@pytest.mark.parametrize(
    "value", [0, -1, -0.0, math.nan, math.inf, -math.inf, 1e300, 2**80, "1", b"1", True, [], {}]
)
def test_check_timeout_refuses_non_positive_non_finite_and_non_numbers(value: Any) -> None:
    with pytest.raises(UsageError, match="timeout"):
        check_timeout(value)
    with pytest.raises(ConfigurationError, match="stream_timeout"):
        check_timeout(value, what="stream_timeout", error=ConfigurationError)


def test_check_timeout_accepts_none_and_positive_numbers() -> None:
    assert check_timeout(None) is None
    assert check_timeout(1) == 1.0 and check_timeout(0.001) == 0.001 and check_timeout(86400 * 365) > 0
