# seed: 001_cebb3c8512ab503e.txt lines 726-727
# Clarifai Python SDK API reference (clarifai): Dataset.export()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.dataset import Dataset
Dataset().export(save_path='output.zip', local_archive_path='clarifai-data-protobuf.zip')
