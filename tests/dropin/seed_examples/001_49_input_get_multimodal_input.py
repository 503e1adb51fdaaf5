# seed: 001_cebb3c8512ab503e.txt lines 1305-1306
# Clarifai Python SDK API reference (clarifai): Input.get_multimodal_input()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.input import Inputs
input_protos = Inputs.get_multimodal_input(input_id = 'demo', raw_text = 'What time of day is it?', image_url='https://samples.clarifai.com/metro-north.jpg')
