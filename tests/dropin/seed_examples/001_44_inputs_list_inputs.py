# seed: 001_cebb3c8512ab503e.txt lines 1134-1136
# Clarifai Python SDK API reference (clarifai): Inputs.list_inputs()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.user import User
input_obj = User(user_id="user_id").app(app_id="app_id").inputs()
input_obj.list_inputs()
