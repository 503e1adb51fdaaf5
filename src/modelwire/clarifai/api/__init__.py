"""The Clarifai V2 protobuf modules, at the path that mirrors `clarifai_grpc.grpc.api`.

Code written for clarifai-grpc imports them with one rewrite:

    from clarifai_grpc.grpc.api import resources_pb2, service_pb2        # published
    from modelwire.clarifai.api import resources_pb2, service_pb2        # modelwire

The messages are modelwire's own (a subset of clarifai-grpc 12.6.0's V2 surface, same names and
field numbers), registered in modelwire's descriptor pool so both packages load in one process.
They are distinct Python classes from clarifai-grpc's: convert between the two by bytes
(`ours.FromString(theirs.SerializeToString())`). The common message types are also importable
by name from `modelwire.clarifai.types`.
"""

from modelwire._gen.clarifai.api import resources_pb2 as resources_pb2
from modelwire._gen.clarifai.api import service_pb2 as service_pb2
from modelwire._gen.clarifai.api import service_pb2_grpc as service_pb2_grpc

__all__ = ["resources_pb2", "service_pb2", "service_pb2_grpc"]
