# seed: 002_66819ad5547d5568.txt line 277
# clarifai 2.x API reference (ClarifaiApp): Inputs.create_image_from_filename()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.create_image_filename(filename="a.jpeg")
