# seed: 002_66819ad5547d5568.txt line 72
# clarifai 2.x API reference (ClarifaiApp): Concepts.bulk_create()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.concepts.bulk_create(['id1', 'id2'], ['cute cat', 'cute dog'])
