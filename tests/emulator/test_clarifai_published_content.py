"""The unchanged published clarifai 12.5.0 SDK fetches hosted content and export archives from the
emulator's file host through its own `requests` path (`Inputs.download_inputs`,
`Dataset.export`), with the key, as it does from the real API's https URLs. Runs where the
published SDK is installed (`make test-published`)."""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from modelwire.clarifai import User
from modelwire.emulator import Emulator

published_user = pytest.importorskip("clarifai.client.user")
published_dataset = pytest.importorskip("clarifai.client.dataset")
published_input = pytest.importorskip("clarifai.client.input")


def _png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def their_app(user: User, base_url: str, api_key: str) -> Iterator[tuple[Any, str]]:
    theirs = published_user.User(user_id=user.user_id, base_url=base_url, pat=api_key)
    app_id = f"pub-content-{uuid.uuid4().hex[:8]}"
    app = theirs.create_app(app_id=app_id)
    yield app, app_id
    theirs.delete_app(app_id)


def test_the_published_sdk_downloads_inputs_and_exports_a_dataset_over_http(
    their_app: tuple[Any, str], emulator: Emulator, base_url: str, api_key: str, tmp_path: Path
) -> None:
    app, app_id = their_app
    app.create_dataset(dataset_id="exported")
    inputs = app.inputs()
    pictures = {"red": _png((200, 0, 0)), "blue": _png((0, 0, 200))}
    for input_id, picture in pictures.items():
        inputs.upload_from_bytes(input_id=input_id, image_bytes=picture, dataset_id="exported")
    deadline = time.monotonic() + 15
    while len(listed := [i for i in inputs.list_inputs() if i.data.image.url]) < len(pictures):
        assert time.monotonic() < deadline, "the uploads were not processed"
        time.sleep(0.05)
    assert all(i.data.image.url.startswith(emulator.files_url) for i in listed)  # http, not file://

    downloaded = inputs.download_inputs(listed)
    assert sorted(downloaded) == sorted(pictures.values())

    dataset = published_dataset.Dataset(
        dataset_id="exported", user_id=emulator.user_id, app_id=app_id, base_url=base_url, pat=api_key
    )
    version = dataset.create_version()  # the published export reads one version's archive
    out = tmp_path / "export.zip"
    version.export(save_path=str(out))
    with zipfile.ZipFile(out) as archive:
        exported = sorted(archive.read(name) for name in archive.namelist() if not name.endswith("/"))
    assert exported == sorted(pictures.values())


def test_the_file_host_refuses_the_published_sdk_without_a_valid_key(
    their_app: tuple[Any, str], emulator: Emulator, base_url: str
) -> None:
    app, _ = their_app
    inputs = app.inputs()
    inputs.upload_from_bytes(input_id="secret", image_bytes=_png((9, 9, 9)))
    deadline = time.monotonic() + 15
    while not (listed := [i for i in inputs.list_inputs() if i.data.image.url]):
        assert time.monotonic() < deadline, "the upload was not processed"
        time.sleep(0.05)
    outsider = published_input.Inputs(
        user_id=emulator.user_id, app_id=app.id, base_url=base_url, pat="not-a-key"
    )
    # download_inputs skips answers that are not 200: a wrong key gets nothing, not the bytes.
    assert outsider.download_inputs(listed) == []
