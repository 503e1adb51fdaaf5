# seed: 001_cebb3c8512ab503e.txt lines 917-919
# Clarifai Python SDK API reference (clarifai): Inputs.get_image_inputs_from_folder()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.input import Input
input_obj = Input()
input_protos = input_obj.get_image_inputs_from_folder(folder_path='demo_folder')
