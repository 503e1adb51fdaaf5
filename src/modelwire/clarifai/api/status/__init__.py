"""Clarifai status messages and codes, at the path that mirrors `clarifai_grpc.grpc.api.status`."""

from modelwire._gen.clarifai.api.status import status_code_pb2 as status_code_pb2
from modelwire._gen.clarifai.api.status import status_pb2 as status_pb2

__all__ = ["status_code_pb2", "status_pb2"]
