# seed: 001_cebb3c8512ab503e.txt lines 977-979
# Clarifai Python SDK API reference (clarifai): Inputs.get_input_from_file()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.input import Input
input_obj = Input()
input_proto = input_obj.get_input_from_file(input_id = 'demo', video_file='file_path')
