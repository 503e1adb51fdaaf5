from google.protobuf.duration_pb2 import *  # noqa: F403
