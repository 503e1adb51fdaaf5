# seed: 002_66819ad5547d5568.txt line 628
# clarifai 2.x API reference (ClarifaiApp): Models.get_by_page()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> models = app.models.get_by_page(2, 20)
