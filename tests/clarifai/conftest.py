"""Clarifai fixtures: the session emulator's V2 API, reached like the real one via base_url."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from modelwire.clarifai import App, User
from modelwire.emulator import Emulator


@pytest.fixture
def base_url(emulator: Emulator) -> str:
    return f"http://127.0.0.1:{emulator.port}"


@pytest.fixture
def user(emulator: Emulator, base_url: str, api_key: str) -> Iterator[User]:
    with User(user_id=emulator.user_id, base_url=base_url, pat=api_key) as client:
        yield client


@pytest.fixture
def app(user: User) -> Iterator[App]:
    """A fresh app per test, deleted afterwards."""
    created = user.create_app(f"app-{uuid.uuid4().hex[:10]}")
    yield created
    user.delete_app(created.id)
