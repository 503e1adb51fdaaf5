# seed: 002_66819ad5547d5568.txt line 492
# clarifai 2.x API reference (ClarifaiApp): Inputs.search_by_original_url()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.search_by_original_url(url='http://bla')
