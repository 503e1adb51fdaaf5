# seed: 002_66819ad5547d5568.txt lines 348-349
# clarifai 2.x API reference (ClarifaiApp): Inputs.get_by_page()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> for image in app.inputs.get_by_page(2, 10):
>>>   print image.input_id
