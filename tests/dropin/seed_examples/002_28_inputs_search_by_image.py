# seed: 002_66819ad5547d5568.txt lines 458-467
# clarifai 2.x API reference (ClarifaiApp): Inputs.search_by_image()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> # search by image url
>>> app.inputs.search_by_image(url='http://blabla')
>>> # search by local filename
>>> app.inputs.search_by_image(filename='bla')
>>> # search by raw image bytes
>>> app.inputs.search_by_image(imgbytes='data')
>>> # search by base64 encoded image bytes
>>> app.inputs.search_by_image(base64bytes='data')
>>> # search by file stream io
>>> app.inputs.search_by_image(fileobj=open('file'))
