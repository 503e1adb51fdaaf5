"""Raw V2 calls for the emulator tests: one user_app_id, one key, the expected status checked."""

from __future__ import annotations

from typing import Any

from google.protobuf.message_factory import GetMessageClass

from modelwire._gen.clarifai.api import resources_pb2 as R
from modelwire._gen.clarifai.api import service_pb2, service_pb2_grpc
from modelwire._gen.clarifai.api.status import status_code_pb2

S = status_code_pb2.StatusCode
V2 = service_pb2.DESCRIPTOR.services_by_name["V2"]


class Api:
    """V2 calls for one user_app_id with one key; checks the status code of each answer."""

    def __init__(self, stub: service_pb2_grpc.V2Stub, ids: R.UserAppIDSet, key: str) -> None:
        self.stub, self.ids, self.key = stub, ids, key

    def __call__(self, method: str, expect: int = S.SUCCESS, **fields: Any) -> Any:
        request: Any = GetMessageClass(V2.methods_by_name[method].input_type)(**fields)
        if "user_app_id" not in fields:
            request.user_app_id.CopyFrom(self.ids)
        response = getattr(self.stub, method)(request, metadata=(("authorization", f"Key {self.key}"),))
        assert response.status.code == expect, (method, response.status)
        return response

    def as_key(self, key: str, app_id: str = "") -> Api:
        """The same user's calls with another key (and app)."""
        return Api(self.stub, R.UserAppIDSet(user_id=self.ids.user_id, app_id=app_id), key)
