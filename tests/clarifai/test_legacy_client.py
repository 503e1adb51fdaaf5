"""ClarifaiApp: construction and credentials, auth, tagging, and the wait helpers (which poll)."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clarifai_helpers import calls
from legacy_helpers import BLUE, RED, b64png, legacy_fixture, png, png_file

from modelwire._core.errors import ConfigurationError
from modelwire.clarifai import App
from modelwire.clarifai.legacy import ApiClientError, ApiError, ClarifaiApp, Image, UserError
from modelwire.emulator import Emulator

legacy = legacy_fixture()


def _total_calls(emulator: Emulator) -> int:
    return sum(emulator.calls.counts().values())


def test_construction_makes_no_request(emulator: Emulator, app: App, base_url: str, api_key: str) -> None:
    before = _total_calls(emulator)
    with ClarifaiApp(app_id=app.id, user_id=emulator.user_id, base_url=base_url, api_key=api_key) as client:
        assert _total_calls(emulator) == before  # the published client paged every model here
        assert repr(client).startswith(f"ClarifaiApp(app_id={app.id!r}")
        client.check_upgrade()  # a no-op: never a network call, never output
        assert _total_calls(emulator) == before


def test_credentials_and_ids_from_the_environment(
    emulator: Emulator, app: App, base_url: str, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLARIFAI_PAT", raising=False)
    monkeypatch.setenv("CLARIFAI_API_KEY", api_key)
    monkeypatch.setenv("CLARIFAI_USER_ID", emulator.user_id)
    monkeypatch.setenv("CLARIFAI_APP_ID", app.id)
    monkeypatch.setenv("CLARIFAI_API_BASE", base_url)
    with ClarifaiApp() as client:
        assert client.api.id == app.id and client.api.user_id == emulator.user_id
        assert client.auth.get_token() == api_key
        assert list(client.concepts.get_all()) == []
    # CLARIFAI_PAT is the fallback key (what the emulator's client_env sets).
    monkeypatch.delenv("CLARIFAI_API_KEY")
    monkeypatch.setenv("CLARIFAI_PAT", api_key)
    with ClarifaiApp() as client:
        assert list(client.inputs.get_all()) == []
        assert client.auth.get_token() == api_key


def test_an_app_scoped_api_key_works(emulator: Emulator, app: App, base_url: str) -> None:
    key = emulator.clarifai.create_app_key(app.id)  # what 2.x users had: a key of one app
    with ClarifaiApp(app_id=app.id, user_id=emulator.user_id, base_url=base_url, api_key=key) as client:
        assert client.concepts.create("kept").concept_id == "kept"
        assert client.models.get("general-v1.3").app_id == "main"  # public models stay readable


def test_bad_construction_says_what_is_missing(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    for name in ("CLARIFAI_API_KEY", "CLARIFAI_PAT", "CLARIFAI_APP_ID", "CLARIFAI_USER_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="CLARIFAI_API_KEY"):
        ClarifaiApp(app_id="a", base_url=base_url)
    with pytest.raises(UserError, match="CLARIFAI_USER_ID"):
        ClarifaiApp(app_id="a", api_key="k", base_url=base_url)


def test_a_wrong_key_fails_the_first_call(emulator: Emulator, app: App, base_url: str) -> None:
    client = ClarifaiApp(app_id=app.id, user_id=emulator.user_id, base_url=base_url, api_key="wrong")
    with client, pytest.raises(ApiError) as failure:
        client.concepts.get_by_page()
    assert failure.value.status_name.startswith("CONN_")
    assert "wrong" not in str(failure.value)


def test_tag_urls_and_files_use_the_general_model(legacy: ClarifaiApp, tmp_path: Path) -> None:
    red, blue = png_file(tmp_path, "red", RED), png_file(tmp_path, "blue", BLUE)
    tagged = legacy.tag_urls([red.as_uri(), blue.as_uri()])
    assert tagged["status"]["code"] == 10000
    first, second = (o["data"]["concepts"] for o in tagged["outputs"])
    assert "red" in [c["id"] for c in first[:3]] and "blue" in [c["id"] for c in second[:3]]
    assert tagged["outputs"][0]["model"]["id"] == "general-image-recognition"
    from_files = legacy.tag_files([str(red)], model_id="general-image-recognition")
    assert from_files["outputs"][0]["data"]["concepts"][:3] == first[:3]


def test_tagging_checks_the_batch_before_any_request(legacy: ClarifaiApp, emulator: Emulator) -> None:
    before = _total_calls(emulator)
    with pytest.raises(UserError, match="max batch size is 128"):
        legacy.tag_urls(["https://samples.clarifai.com/metro-north.jpg"] * 129)
    with pytest.raises(UserError, match="list"):
        legacy.tag_urls("https://samples.clarifai.com/metro-north.jpg")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="cannot read"):
        legacy.tag_files(["/no/such/file.png"])
    with pytest.raises(UserError, match="url must be"):
        legacy.tag_urls(["ftp://example.com/a.png"])
    assert _total_calls(emulator) == before


def test_tagging_with_an_unknown_model_is_not_found(legacy: ClarifaiApp, tmp_path: Path) -> None:
    with pytest.raises(ApiError) as failure:
        legacy.tag_urls([png_file(tmp_path, "red", RED).as_uri()], model_name="no-such-model")
    assert failure.value.status_name == "MODEL_DOES_NOT_EXIST"
    assert "no-such-model" in str(failure.value)


def test_wait_until_inputs_upload_finish_polls(legacy: ClarifaiApp, emulator: Emulator) -> None:
    legacy.inputs.bulk_create_images([Image(base64=b64png(RED, size=8 + i)) for i in range(20)])
    before = calls(emulator, "GetInputCount")
    legacy.wait_until_inputs_upload_finish()
    assert calls(emulator, "GetInputCount") > before  # the published helper never asked
    counts = legacy.inputs.check_status()
    assert (counts.processed, counts.to_process, counts.processing) == (20, 0, 0)


@pytest.fixture
def slow_image_url() -> Iterator[str]:
    """A loopback URL that answers after 1.5 s (the emulator keeps the input processing meanwhile)."""
    body = png(RED)

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(1.5)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slow.png"
    server.shutdown()
    server.server_close()


def test_waits_time_out_with_a_clear_error(legacy: ClarifaiApp, slow_image_url: str) -> None:
    legacy.inputs.create_image_from_url(slow_image_url, image_id="slow")
    started = time.monotonic()
    with pytest.raises(ApiClientError, match="processing uploaded inputs did not finish"):
        legacy.wait_until_inputs_upload_finish(max_wait=0.3)
    assert time.monotonic() - started < 1.2
    legacy.wait_until_inputs_upload_finish(max_wait=10)
    assert legacy.inputs.get("slow").status.code == 30000  # type: ignore[union-attr]
    with pytest.raises(ApiClientError, match="deleting inputs"):
        legacy.wait_until_inputs_delete_finish(timeout=0.2)  # nothing was deleted
    legacy.models.create("kept")
    with pytest.raises(ApiClientError, match="deleting models"):
        legacy.wait_until_models_delete_finish(timeout=0.2)
    for bad in (0, -1, True, "5"):
        with pytest.raises(UserError, match="timeout"):
            legacy.wait_until_inputs_delete_finish(timeout=bad)  # type: ignore[arg-type]


def test_delete_waits_return_once_everything_is_gone(legacy: ClarifaiApp) -> None:
    legacy.inputs.bulk_create_images([Image(base64=b64png(BLUE, size=8 + i)) for i in range(3)])
    legacy.models.create("m1")
    legacy.models.create("m2")
    legacy.inputs.delete_all()
    legacy.wait_until_inputs_delete_finish(timeout=5)
    assert legacy.inputs.get_by_page() == []
    legacy.models.delete_all()
    legacy.wait_until_models_delete_finish(timeout=5)
    assert list(legacy.models.get_all(private_only=True)) == []
