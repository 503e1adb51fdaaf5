# seed: 002_66819ad5547d5568.txt line 689
# clarifai 2.x API reference (ClarifaiApp): Model.get_concept_ids()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> ids = model.get_concept_ids()
