from google.protobuf.wrappers_pb2 import *  # noqa: F403
