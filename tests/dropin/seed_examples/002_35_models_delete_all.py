# seed: 002_66819ad5547d5568.txt line 588
# clarifai 2.x API reference (ClarifaiApp): Models.delete_all()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.models.delete_all()
