"""`modelwire.clarifai.input`: the drop-in path of `clarifai.client.input` (Inputs and its builders).

The implementation lives in `modelwire.clarifai.inputs`; this module is the published module
name, so `from clarifai.client.input import Inputs` becomes
`from modelwire.clarifai.input import Inputs`.

`Input` is `Inputs`: the Clarifai SDK documentation (our seed) imports `Input` from this module
and calls the builders on it (`Input.get_multimodal_input(...)`, `Input().get_text_input(...)`).
The published clarifai 12.5.0 re-exports the protobuf message `Input` under that name instead,
on which those documented calls fail; build a bare message with `resources_pb2.Input` (or
clarifai-grpc's, which every method accepts).
"""

from __future__ import annotations

from modelwire.clarifai.inputs import MAX_UPLOAD_BATCH_SIZE, Inputs, UploadSummary, clean_input_id

Input = Inputs

__all__ = ["MAX_UPLOAD_BATCH_SIZE", "Input", "Inputs", "UploadSummary", "clean_input_id"]
