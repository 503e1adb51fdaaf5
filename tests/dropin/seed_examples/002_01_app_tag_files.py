# seed: 002_66819ad5547d5568.txt lines 27-29
# clarifai 2.x API reference (ClarifaiApp): ClarifaiApp.tag_files()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> files = ['/tmp/metro-north.jpg',
>>>          '/tmp/dog2.jpeg']
>>> app.tag_urls(files)
