# seed: 002_66819ad5547d5568.txt line 243
# clarifai 2.x API reference (ClarifaiApp): Inputs.create_image_from_base64()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.create_image_bytes(base64_bytes="base64 encoded image bytes...")
