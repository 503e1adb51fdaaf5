# seed: 001_cebb3c8512ab503e.txt lines 1496-1498
# Clarifai Python SDK API reference (clarifai): Model.predict_by_bytes()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.model import Model
model = Model("https://clarifai.com/anthropic/completion/models/claude-v2")
model_prediction = model.predict_by_bytes(b'Write a tweet on future of AI', 'text')
