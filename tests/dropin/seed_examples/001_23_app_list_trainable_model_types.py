# seed: 001_cebb3c8512ab503e.txt lines 593-594
# Clarifai Python SDK API reference (clarifai): App.list_trainable_model_types()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.app import App
print(app.list_trainable_model_types())
