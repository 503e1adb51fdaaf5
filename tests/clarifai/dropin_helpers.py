"""Helpers for the drop-in tests: messages as clarifai-grpc defines them, in another pool."""

from __future__ import annotations

import functools
import io
from typing import Any

from google.protobuf import descriptor_pool, message_factory
from PIL import Image

from modelwire._gen.clarifai.api import resources_pb2, service_pb2


@functools.cache
def _other_pool() -> descriptor_pool.DescriptorPool:
    """A pool holding the Clarifai API files apart from ours, like clarifai-grpc's registrations
    in the default pool: its classes have our full names but are not our classes."""
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(file: Any) -> None:
        if file.name in added:
            return
        for dependency in file.dependencies:
            add(dependency)
        pool.AddSerializedFile(file.serialized_pb)
        added.add(file.name)

    add(service_pb2.DESCRIPTOR)
    return pool


def foreign(name: str) -> Any:
    """The class of message type `name` (e.g. "clarifai.api.Concept") from the other pool."""
    found = message_factory.GetMessageClass(_other_pool().FindMessageTypeByName(name))
    assert found is not getattr(resources_pb2, name.rsplit(".", 1)[-1], None)
    return found


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(buffer, "PNG")
    return buffer.getvalue()
