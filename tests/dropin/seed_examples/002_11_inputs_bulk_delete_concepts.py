# seed: 002_66819ad5547d5568.txt line 178
# clarifai 2.x API reference (ClarifaiApp): Inputs.bulk_delete_concepts()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.bulk_delete_concepts(['id'], [['cat', 'dog']])
