# seed: 001_cebb3c8512ab503e.txt lines 1083-1085
# Clarifai Python SDK API reference (clarifai): Inputs.get_text_input()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.input import Input
input_obj = Input()
input_protos = input_obj.get_text_input(input_id = 'demo', raw_text = 'This is a test')
