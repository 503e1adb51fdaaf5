# seed: 002_66819ad5547d5568.txt lines 726-727
# clarifai 2.x API reference (ClarifaiApp): Model.list_versions()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> model = self.app.models.get('model_id')
>>> model.list_versions()
