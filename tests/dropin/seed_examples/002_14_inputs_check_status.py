# seed: 002_66819ad5547d5568.txt lines 216-218
# clarifai 2.x API reference (ClarifaiApp): Inputs.check_status()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> status = app.inputs.check_status()
>>> print status.code
>>> print status.description
