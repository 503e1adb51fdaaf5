# seed: 001_cebb3c8512ab503e.txt lines 1654-1656
# Clarifai Python SDK API reference (clarifai): Model.training_status()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.model import Model
model = Model(model_id='model_id', user_id='user_id', app_id='app_id')
model.training_status(version_id='version_id',training_logs=True)
