"""The unchanged published clarifai 12.5.0 SDK manages apps on the emulator — create, patch
(overwrite and remove, as `User.patch_app` sends them), list, delete — and our SDK sees each
step. Runs where the published SDK is installed (`make test-published`)."""

from __future__ import annotations

import uuid

import pytest

from modelwire.clarifai import User
from modelwire.emulator import Emulator

published_user = pytest.importorskip("clarifai.client.user")

IMAGE = "https://samples.clarifai.com/metro-north.jpg"


def test_the_published_sdk_creates_patches_lists_and_deletes_apps(
    user: User, emulator: Emulator, base_url: str, api_key: str
) -> None:
    theirs = published_user.User(user_id=emulator.user_id, base_url=base_url, pat=api_key)
    app_id = f"pub-app-{uuid.uuid4().hex[:8]}"
    theirs.create_app(app_id=app_id, base_workflow="Empty", description="made by clarifai 12.5.0")
    assert app_id in {a.id for a in theirs.list_apps()}
    assert user.app(app_id).app_info.description == "made by clarifai 12.5.0"

    theirs.patch_app(app_id, action="overwrite", description="patched", visibility=10, image_url=IMAGE)
    mine = user.app(app_id).app_info
    assert (mine.description, mine.visibility.gettable, mine.image.url) == ("patched", 10, IMAGE)

    theirs.patch_app(app_id, action="remove", image_url=IMAGE)
    assert not user.app(app_id).app_info.image.url

    theirs.delete_app(app_id)
    assert app_id not in {a.id for a in theirs.list_apps()}
    assert app_id not in {a.id for a in user.list_apps()}
