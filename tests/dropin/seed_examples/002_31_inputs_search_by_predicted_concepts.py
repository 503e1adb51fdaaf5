# seed: 002_66819ad5547d5568.txt lines 510-512
# clarifai 2.x API reference (ClarifaiApp): Inputs.search_by_predicted_concepts()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.search_by_predicted_concepts(concept='cat')
>>> # search over simplified Chinese label
>>> app.inputs.search_by_predicted_concepts(concept=u'狗', lang='zh')
