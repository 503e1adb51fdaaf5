# seed: 001_cebb3c8512ab503e.txt lines 1034-1036
# Clarifai Python SDK API reference (clarifai): Inputs.get_inputs_from_csv()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.input import Input
input_obj = Input()
input_protos = input_obj.get_inputs_from_csv(csv_path='filepath', input_type='text', csv_type='raw')
