# seed: 002_66819ad5547d5568.txt lines 127-129
# clarifai 2.x API reference (ClarifaiApp): Concepts.search()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.concepts.search('cat')
>>> # search for Chinese label name
>>> app.concepts.search(u'狗*', lang='zh')
