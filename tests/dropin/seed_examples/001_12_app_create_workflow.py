# seed: 001_cebb3c8512ab503e.txt lines 337-339
# Clarifai Python SDK API reference (clarifai): App.create_workflow()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.app import App
app = App(user_id="user_id", app_id="app_id")
workflow = app.create_workflow(config_filepath="config.yml")
