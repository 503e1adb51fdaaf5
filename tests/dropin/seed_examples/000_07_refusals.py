# seed: 000_ccc697f07eb65b50.txt lines 50-53
# Clavata SDK for Python (clavata-sdk): Dealing with Refusal Errors
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
try:
client.evaluate(...)
except EvaluationRefusedError as err:
print("Refused content: ", err.refusals)
