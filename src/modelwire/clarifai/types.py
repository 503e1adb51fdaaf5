"""The protobuf message types Clarifai users handle, importable by name.

    from modelwire.clarifai.types import Concept, Input, OutputConfig, StatusCode

Results of `Model.predict`, `Search.query`, `Inputs.list_inputs` and the rest are these messages;
`modelwire.clarifai.api` holds the whole modules (`resources_pb2`, `service_pb2`) for code
written against clarifai-grpc. `Struct` is the well-known type as built into modelwire's
descriptor pool, for `metadata=` and model parameters.
"""

from modelwire._gen.clarifai.api.resources_pb2 import (
    Annotation,
    App,
    Audio,
    BoundingBox,
    Concept,
    Data,
    Dataset,
    DatasetVersion,
    Frame,
    Geo,
    GeoLimit,
    GeoPoint,
    Hit,
    Image,
    Input,
    Model,
    ModelVersion,
    Output,
    OutputConfig,
    OutputInfo,
    Point,
    Region,
    RegionInfo,
    Text,
    UserAppIDSet,
    Video,
    Workflow,
    WorkflowNode,
)
from modelwire._gen.clarifai.api.service_pb2 import (
    MultiAnnotationResponse,
    MultiAppResponse,
    MultiConceptResponse,
    MultiDatasetResponse,
    MultiInputResponse,
    MultiModelResponse,
    MultiOutputResponse,
    MultiSearchResponse,
    MultiWorkflowResponse,
    PostWorkflowResultsResponse,
    SingleInputResponse,
)
from modelwire._gen.clarifai.api.status.status_code_pb2 import StatusCode
from modelwire._gen.clarifai.api.status.status_pb2 import Status
from modelwire._gen.google.protobuf.struct_pb2 import Struct

__all__ = [
    "Annotation",
    "App",
    "Audio",
    "BoundingBox",
    "Concept",
    "Data",
    "Dataset",
    "DatasetVersion",
    "Frame",
    "Geo",
    "GeoLimit",
    "GeoPoint",
    "Hit",
    "Image",
    "Input",
    "Model",
    "ModelVersion",
    "MultiAnnotationResponse",
    "MultiAppResponse",
    "MultiConceptResponse",
    "MultiDatasetResponse",
    "MultiInputResponse",
    "MultiModelResponse",
    "MultiOutputResponse",
    "MultiSearchResponse",
    "MultiWorkflowResponse",
    "Output",
    "OutputConfig",
    "OutputInfo",
    "Point",
    "PostWorkflowResultsResponse",
    "Region",
    "RegionInfo",
    "SingleInputResponse",
    "Status",
    "StatusCode",
    "Struct",
    "Text",
    "UserAppIDSet",
    "Video",
    "Workflow",
    "WorkflowNode",
]
