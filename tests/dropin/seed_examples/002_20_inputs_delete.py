# seed: 002_66819ad5547d5568.txt lines 305-306
# clarifai 2.x API reference (ClarifaiApp): Inputs.delete()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> ret = app.inputs.delete('id1')
>>> print ret.code
