# seed: 001_cebb3c8512ab503e.txt lines 51-52
# Clarifai Python SDK API reference (clarifai): User.app()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.user import User
app = User("user_id").app("app_id")
