# seed: 001_cebb3c8512ab503e.txt lines 377-379
# Clarifai Python SDK API reference (clarifai): App.delete_dataset()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.app import App
app = App(app_id="app_id", user_id="user_id")
app.delete_dataset(dataset_id="dataset_id")
