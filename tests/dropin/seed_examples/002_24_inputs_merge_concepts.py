# seed: 002_66819ad5547d5568.txt line 367
# clarifai 2.x API reference (ClarifaiApp): Inputs.merge_concepts()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.merge_concepts('id', ['cat', 'kitty'], ['dog'])
