# seed: 001_cebb3c8512ab503e.txt lines 122-123
# Clarifai Python SDK API reference (clarifai): User.delete_app()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.user import User
user = User("user_id").delete_app("app_id")
