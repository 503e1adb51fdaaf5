# seed: 002_66819ad5547d5568.txt lines 697-700
# clarifai 2.x API reference (ClarifaiApp): Model.get_info()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> # with basic model info
>>> model.get_info()
>>> # model info with concepts
>>> model.get_info(verbose=True)
