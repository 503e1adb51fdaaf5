# seed: 000_ccc697f07eb65b50.txt line 8
# Clavata SDK for Python (clavata-sdk): Quick Start
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
export CLAVATA_API_KEY="YOUR_API_KEY"
