# seed: 001_cebb3c8512ab503e.txt lines 1056-1058
# Clarifai Python SDK API reference (clarifai): Inputs.get_mask_proto()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.input import Input
input_obj = Input()
input_obj.get_mask_proto(input_id='demo', label='demo', polygons=[[[x,y],...,[x,y]],...])
