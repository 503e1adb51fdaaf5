"""Error hints name the provider's own settings and the real cause (issue 15): no Clavata type in a
Clarifai failure, no `secure=` where the client has none, a Decthings address without /v0 named."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelwire._core.errors import ApiError, RpcCode, UnavailableError
from modelwire.clarifai import Inputs, User
from modelwire.decthings import DecthingsClientSync
from modelwire.emulator import Emulator

KEY = "hint-key"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(api_key=KEY, http_port=0) as emulator:
        yield emulator


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_decthings_unreachable_hint_names_its_address_setting_not_secure() -> None:
    address = f"http://127.0.0.1:{_free_port()}/v0"  # nothing listens there
    with (
        DecthingsClientSync(api_key=KEY, http_server_address=address) as client,
        pytest.raises(UnavailableError) as failure,
    ):
        client.model.get_models({})
    hint = failure.value.hint or ""
    assert "secure=" not in str(failure.value)
    assert "DECTHINGS_HTTP_URL" in hint and "/v0" in hint


@pytest.mark.parametrize("base", ["", "/", "/api"])
def test_decthings_address_without_v0_is_named_as_the_cause(emu: Emulator, base: str) -> None:
    address = emu.decthings_url.removesuffix("/v0") + base
    with (
        DecthingsClientSync(api_key=KEY, http_server_address=address) as client,
        pytest.raises(ApiError) as failure,
    ):
        client.model.get_models({})
    text = str(failure.value)
    assert "does not end in /v0" in text, text
    assert f"{address.rstrip('/')}/v0" in text, text  # what to use instead


def test_decthings_address_with_v0_gets_no_v0_hint(emu: Emulator) -> None:
    with DecthingsClientSync(api_key=KEY, http_server_address=emu.decthings_url) as client:
        assert client.model.get_models({})["models"]


def test_unavailable_hints_are_the_providers_own() -> None:
    import modelwire.clarifai.errors
    import modelwire.clavata.errors  # noqa: F401  (the providers register their hints on import)

    def hint(method: str) -> str:
        return ApiError("down", code=RpcCode.UNAVAILABLE, method=method).hint or ""

    assert "secure=" in hint("/clavata.gateway.v1.GatewayService/Evaluate")
    clarifai = hint("/clarifai.api.V2/PostInputs")
    assert "CLARIFAI_API_BASE" in clarifai and "secure=" not in clarifai
    decthings = hint("Model.getModels")
    assert "DECTHINGS_HTTP_URL" in decthings and "secure=" not in decthings
    neutral = hint("")  # an error built by hand, no provider: names no provider's argument
    assert neutral and "secure=" not in neutral and "CLARIFAI" not in neutral and "DECTHINGS" not in neutral


def test_unauthenticated_hints_name_the_providers_key_setting() -> None:
    import modelwire.clarifai.errors
    import modelwire.clavata.errors  # noqa: F401

    def hint(method: str) -> str:
        return ApiError("no", code=RpcCode.UNAUTHENTICATED, method=method).hint or ""

    assert "CLAVATA_API_KEY" in hint("/clavata.gateway.v1.GatewayService/GetJob")
    assert "CLARIFAI_PAT" in hint("/clarifai.api.V2/GetApp")


def test_a_failed_clarifai_url_fetch_points_to_clarifai_not_clavata(emu: Emulator) -> None:
    with User(user_id="demo", pat=KEY, base_url=f"http://{emu.address}") as user:
        inputs = user.create_app("hints").inputs()
        remote = Inputs.get_input_from_url("remote", image_url="https://example.com/cat.jpg")
        summary = inputs.upload_inputs_bulk([remote], show_progress=False)
    reason = summary.failed["remote"]
    assert "ContentData" not in reason, reason
    assert "get_input_from_bytes" in reason, reason


def test_a_refused_url_names_each_providers_way_to_send_bytes() -> None:
    from modelwire.emulator.clarifai.content import CLARIFAI_BYTES
    from modelwire.emulator.clavata.prechecks import ContentFetchError, fetch_url

    with pytest.raises(ContentFetchError) as clavata:
        fetch_url("https://example.com/cat.png")  # the Clavata emulator's default
    assert "ContentData(image=...)" in str(clavata.value) and clavata.value.refused
    with pytest.raises(ContentFetchError) as clarifai:
        fetch_url("file:///etc/hostname", send_bytes_with=CLARIFAI_BYTES)
    assert "ContentData" not in str(clarifai.value) and "get_input_from_bytes" in str(clarifai.value)
