# seed: 000_ccc697f07eb65b50.txt lines 10-11
# Clavata SDK for Python (clavata-sdk): Quick Start
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clavata_sdk import ClavataClient
client = ClavataClient.create()
