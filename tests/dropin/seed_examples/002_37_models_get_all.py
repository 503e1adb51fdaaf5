# seed: 002_66819ad5547d5568.txt lines 612-613
# clarifai 2.x API reference (ClarifaiApp): Models.get_all()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> for model in app.models.get_all():
>>>   print model.model_name
