"""Clarifai fixtures: the plugin's session emulator (modelwire.testing), reached like the real V2
API via base_url; `app` is the plugin's clarifai_app under the name this suite's tests use."""

from __future__ import annotations

import pytest

from modelwire.clarifai import App


@pytest.fixture
def app(clarifai_app: App) -> App:
    """A fresh app per test, deleted afterwards."""
    return clarifai_app
