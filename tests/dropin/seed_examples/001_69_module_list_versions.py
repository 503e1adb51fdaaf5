# seed: 001_cebb3c8512ab503e.txt lines 1897-1899
# Clarifai Python SDK API reference (clarifai): Module.list_versions()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clarifai.client.module import Module
module = Module(module_id='module_id', user_id='user_id', app_id='app_id')
all_Module_versions = module.list_versions()
