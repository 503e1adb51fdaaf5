# seed: 002_66819ad5547d5568.txt lines 378-380
# clarifai 2.x API reference (ClarifaiApp): Inputs.merge_metadata()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> # merge the metadata
>>> # metadata will be appended to the existing key/value pairs
>>> app.inputs.merge_metadata('id', {'key1':'value1', 'key2':'value2'})
