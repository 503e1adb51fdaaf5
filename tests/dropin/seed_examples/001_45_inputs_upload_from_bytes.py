# seed: 001_cebb3c8512ab503e.txt lines 1177-1180
# Clarifai Python SDK API reference (clarifai): Inputs.upload_from_bytes()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.input import Input
input_obj = Input(user_id = 'user_id', app_id = 'demo_app')
image = open('demo.jpg', 'rb').read()
input_obj.upload_from_bytes(input_id='demo', image_bytes=image)
