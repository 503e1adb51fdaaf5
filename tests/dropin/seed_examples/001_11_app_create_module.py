# seed: 001_cebb3c8512ab503e.txt lines 311-313
# Clarifai Python SDK API reference (clarifai): App.create_module()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.app import App
app = App(app_id="app_id", user_id="user_id")
module = app.create_module(module_id="module_id")
