"""Clarifai fixtures: the session emulator's V2 API, reached like the real one via base_url."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from modelwire.clarifai import App, User


@pytest.fixture
def app(user: User) -> Iterator[App]:
    """A fresh app per test, deleted afterwards."""
    created = user.create_app(f"app-{uuid.uuid4().hex[:10]}")
    yield created
    user.delete_app(created.id)
