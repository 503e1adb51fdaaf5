# seed: 002_66819ad5547d5568.txt line 189
# clarifai 2.x API reference (ClarifaiApp): Inputs.bulk_merge_concepts()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.bulk_merge_concepts('id', [[('cat',True), ('dog',False)]])
