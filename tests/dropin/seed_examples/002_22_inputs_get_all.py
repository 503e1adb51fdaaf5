# seed: 002_66819ad5547d5568.txt lines 335-336
# clarifai 2.x API reference (ClarifaiApp): Inputs.get_all()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> for image in app.inputs.get_all():
>>>   print image.input_id
