# seed: 001_cebb3c8512ab503e.txt lines 393-395
# Clarifai Python SDK API reference (clarifai): App.delete_model()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.app import App
app = App(app_id="app_id", user_id="user_id")
app.delete_model(model_id="model_id")
