# seed: 001_cebb3c8512ab503e.txt lines 528-530
# Clarifai Python SDK API reference (clarifai): App.list_models()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.user import User
app = User(user_id="user_id").app(app_id="app_id")
all_models = app.list_models()
