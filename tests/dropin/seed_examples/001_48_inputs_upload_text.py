# seed: 001_cebb3c8512ab503e.txt lines 1281-1283
# Clarifai Python SDK API reference (clarifai): Inputs.upload_text()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.input import Input
input_obj = Input(user_id = 'user_id', app_id = 'demo_app')
input_obj.upload_text(input_id = 'demo', raw_text = 'This is a test')
