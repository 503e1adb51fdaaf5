# seed: 001_cebb3c8512ab503e.txt lines 76-78
# Clarifai Python SDK API reference (clarifai): User.create_app()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.user import User
client = User(user_id="user_id")
app = client.create_app(app_id="app_id",base_workflow="Universal")
