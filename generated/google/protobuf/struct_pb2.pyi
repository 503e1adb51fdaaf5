from google.protobuf.struct_pb2 import *  # noqa: F403
