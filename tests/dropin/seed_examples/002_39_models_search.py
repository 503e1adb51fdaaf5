# seed: 002_66819ad5547d5568.txt lines 645-650
# clarifai 2.x API reference (ClarifaiApp): Models.search()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> # search for general-v1.3 models
>>> app.models.search('general-v1.3')
>>> # search for color model
>>> app.models.search('color', model_type='color')
>>> # search for face model
>>> app.models.search('face-v1.3', model_type='facedetect')
