# seed: 002_66819ad5547d5568.txt lines 576-579
# clarifai 2.x API reference (ClarifaiApp): Models.delete()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> # delete a model
>>> app.models.delete('model_id1')
>>> # delete a model version
>>> app.models.delete('model_id1', version_id='version1')
