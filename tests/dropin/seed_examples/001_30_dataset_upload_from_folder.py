# seed: 001_cebb3c8512ab503e.txt lines 781-783
# Clarifai Python SDK API reference (clarifai): Dataset.upload_from_folder()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.dataset import Dataset
dataset = Dataset(user_id = 'user_id', app_id = 'demo_app', dataset_id = 'demo_dataset')
dataset.upload_from_folder(folder_path='folder_path', input_type='text', labels=True)
