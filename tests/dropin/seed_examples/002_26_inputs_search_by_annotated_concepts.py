# seed: 002_66819ad5547d5568.txt line 424
# clarifai 2.x API reference (ClarifaiApp): Inputs.search_by_annotated_concepts()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.search_by_annotated_concepts(concept='cat')
