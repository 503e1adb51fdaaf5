# seed: 002_66819ad5547d5568.txt lines 326-327
# clarifai 2.x API reference (ClarifaiApp): Inputs.get()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> image = app.inputs.get('id1')
>>> print image.input_id
