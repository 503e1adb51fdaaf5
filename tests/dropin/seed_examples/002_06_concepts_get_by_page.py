# seed: 002_66819ad5547d5568.txt lines 115-116
# clarifai 2.x API reference (ClarifaiApp): Concepts.get_by_page()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> for concept in app.concepts.get_by_page(2, 10):
>>>   print concept.concept_id
