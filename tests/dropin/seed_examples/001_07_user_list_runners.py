# seed: 001_cebb3c8512ab503e.txt lines 188-190
# Clarifai Python SDK API reference (clarifai): User.list_runners()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.user import User
client = User(user_id="user_id")
all_runners= client.list_runners()
