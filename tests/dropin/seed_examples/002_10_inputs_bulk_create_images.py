# seed: 002_66819ad5547d5568.txt lines 165-167
# clarifai 2.x API reference (ClarifaiApp): Inputs.bulk_create_images()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> img1 = Image(url="", concepts=['cat', 'kitty'])
>>> img2 = Image(url="", concepts=['dog'], not_concepts=['cat'])
>>> app.inputs.bulk_create_images([img1, img2])
