# seed: 000_ccc697f07eb65b50.txt lines 66-72
# Clavata SDK for Python (clavata-sdk): Dealing with Refusal Errors
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
from clavata_sdk import RefusalReason, EvaluationRefusedError
try:
client.evaluate(...)
except EvaluationRefusedError as err:
if err.first_reason == RefusalReason.CSAM:
# Now you know that CSAM was found. Act accordingly.
# etc ...
