# seed: 002_66819ad5547d5568.txt lines 479-480
# clarifai 2.x API reference (ClarifaiApp): Inputs.search_by_metadata()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.search_by_metadata(metadata={'name':'bla'})
>>> app.inputs.search_by_metadata(metadata={'my_class1': { 'name' : 'bla' }})
