# seed: 001_cebb3c8512ab503e.txt lines 137-139
# Clarifai Python SDK API reference (clarifai): User.delete_runner()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.user import User
client = User(user_id="user_id")
client.delete_runner(runner_id="runner_id")
