# seed: 002_66819ad5547d5568.txt lines 600-601
# clarifai 2.x API reference (ClarifaiApp): Models.get()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> # get general-v1.3 model
>>> app.models.get('general-v1.3')
