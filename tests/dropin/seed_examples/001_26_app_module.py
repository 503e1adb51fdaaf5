# seed: 001_cebb3c8512ab503e.txt lines 661-663
# Clarifai Python SDK API reference (clarifai): App.module()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.app import App
app = App(app_id="app_id", user_id="user_id")
module = app.module(module_id="module_id", module_version_id="module_version_id")
