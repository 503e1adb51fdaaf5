# seed: 002_66819ad5547d5568.txt line 140
# clarifai 2.x API reference (ClarifaiApp): Concepts.update()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.concepts.update(concept_id='myid1', concept_name='new_concept_name2')
