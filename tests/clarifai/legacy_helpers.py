"""Shared pieces of the legacy-client tests (tests/clarifai/test_legacy_*.py)."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from modelwire.clarifai import App
from modelwire.clarifai.legacy import ClarifaiApp
from modelwire.emulator import Emulator

RED, BLUE, GREEN = (220, 20, 20), (20, 20, 220), (20, 200, 20)


def png(color: tuple[int, int, int], size: int = 32, stripes: bool = False) -> bytes:
    image = PILImage.new("RGB", (size, size), color)
    if stripes:
        for x in range(0, size, 4):
            for y in range(size):
                image.putpixel((x, y), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def b64png(color: tuple[int, int, int], size: int = 32) -> bytes:
    return base64.b64encode(png(color, size))


def png_file(folder: Path, name: str, color: tuple[int, int, int], **kwargs: Any) -> Path:
    path = folder / f"{name}.png"
    path.write_bytes(png(color, **kwargs))
    return path


def legacy_fixture() -> Callable[..., Iterator[ClarifaiApp]]:
    """The `legacy` fixture: a ClarifaiApp on the test's fresh app (module-level `legacy = ...`)."""

    @pytest.fixture
    def legacy(emulator: Emulator, app: App, base_url: str, api_key: str) -> Iterator[ClarifaiApp]:
        with ClarifaiApp(
            app_id=app.id, user_id=emulator.user_id, base_url=base_url, api_key=api_key
        ) as client:
            yield client

    return legacy
