# seed: 002_66819ad5547d5568.txt line 83
# clarifai 2.x API reference (ClarifaiApp): Concepts.bulk_update()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.concepts.bulk_update(concept_ids=['myid1', 'myid2'], concept_names=['name2', 'name3'])
