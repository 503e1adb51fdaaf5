# seed: 001_cebb3c8512ab503e.txt lines 1006-1008
# Clarifai Python SDK API reference (clarifai): Inputs.get_input_from_url()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.input import Input
input_obj = Input()
input_proto = input_obj.get_input_from_url(input_id = 'demo', image_url='https://samples.clarifai.com/metro-north.jpg')
