# seed: 001_cebb3c8512ab503e.txt lines 1324-1325
# Clarifai Python SDK API reference (clarifai): Input.get_bbox_proto()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.input import Inputs
Inputs.get_bbox_proto(input_id='demo', label='demo', bbox=[x_min, y_min, x_max, y_max])
