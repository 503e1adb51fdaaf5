# seed: 001_cebb3c8512ab503e.txt lines 163-164
# Clarifai Python SDK API reference (clarifai): User.list_apps()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.user import User
apps = User("user_id").list_apps()
