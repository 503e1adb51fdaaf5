# seed: 002_66819ad5547d5568.txt line 157
# clarifai 2.x API reference (ClarifaiApp): Inputs.add_concepts()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.add_concepts('id', ['cat', 'kitty'], ['dog'])
