# seed: 001_cebb3c8512ab503e.txt lines 858-859
# Clarifai Python SDK API reference (clarifai): Dataset.delete_version()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.dataset import Dataset
dataset = Dataset(dataset_id='dataset_id', user_id='user_id', dataset.delete_version(version_id='version_id')
