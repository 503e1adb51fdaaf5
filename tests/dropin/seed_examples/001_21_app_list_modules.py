# seed: 001_cebb3c8512ab503e.txt lines 554-556
# Clarifai Python SDK API reference (clarifai): App.list_modules()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.app import App
app = App(app_id="app_id", user_id="user_id")
all_modules = app.list_modules()
