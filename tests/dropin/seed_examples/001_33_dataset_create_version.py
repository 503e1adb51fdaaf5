# seed: 001_cebb3c8512ab503e.txt lines 842-844
# Clarifai Python SDK API reference (clarifai): Dataset.create_version()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.dataset import Dataset
dataset = Dataset(dataset_id='dataset_id', user_id='user_id', app_id='app_id')
dataset_version = dataset.create_version(description='dataset_version_description')
