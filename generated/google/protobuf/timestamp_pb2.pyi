from google.protobuf.timestamp_pb2 import *  # noqa: F403
