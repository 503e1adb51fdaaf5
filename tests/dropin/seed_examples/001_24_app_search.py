# seed: 001_cebb3c8512ab503e.txt lines 612-614
# Clarifai Python SDK API reference (clarifai): App.search()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.app import App
app = App(app_id="app_id", user_id="user_id")
search_client = app.search(top_k=12, metric="euclidean")
