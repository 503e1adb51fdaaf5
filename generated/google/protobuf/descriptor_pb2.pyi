from google.protobuf.descriptor_pb2 import *  # noqa: F403
