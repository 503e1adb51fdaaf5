# seed: 002_66819ad5547d5568.txt lines 39-41
# clarifai 2.x API reference (ClarifaiApp): ClarifaiApp.tag_urls()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> urls = ['https://samples.clarifai.com/metro-north.jpg',
>>>         'https://samples.clarifai.com/dog2.jpeg']
>>> app.tag_urls(urls)
