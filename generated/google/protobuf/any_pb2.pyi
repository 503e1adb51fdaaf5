from google.protobuf.any_pb2 import *  # noqa: F403
