# seed: 002_66819ad5547d5568.txt line 436
# clarifai 2.x API reference (ClarifaiApp): Inputs.search_by_geo()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.search_by_geo(GeoPoint(30, 40), GeoLimit("mile", 10))
