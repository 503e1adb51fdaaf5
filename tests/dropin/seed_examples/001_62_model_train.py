# seed: 001_cebb3c8512ab503e.txt lines 1632-1635
# Clarifai Python SDK API reference (clarifai): Model.train()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.model import Model
model = Model(model_id='model_id', user_id='user_id', app_id='app_id')
model_params = model.get_params(template='template', yaml_file='model_params.yaml')
model.train('model_params.yaml')
