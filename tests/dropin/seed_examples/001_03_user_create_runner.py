# seed: 001_cebb3c8512ab503e.txt lines 102-104
# Clarifai Python SDK API reference (clarifai): User.create_runner()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.user import User
client = User(user_id="user_id")
runner = client.create_runner(runner_id="runner_id", labels=["label to link runner"], description="laptop runner")
