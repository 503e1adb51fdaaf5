# seed: 002_66819ad5547d5568.txt line 100
# clarifai 2.x API reference (ClarifaiApp): Concepts.get()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.concepts.get('id')
