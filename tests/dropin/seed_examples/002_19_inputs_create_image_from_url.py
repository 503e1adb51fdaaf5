# seed: 002_66819ad5547d5568.txt lines 294-297
# clarifai 2.x API reference (ClarifaiApp): Inputs.create_image_from_url()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> app.inputs.create_image_from_url(url='https://samples.clarifai.com/metro-north.jpg')
>>> # create image with geo point
>>> app.inputs.create_image_from_url(url='https://samples.clarifai.com/metro-north.jpg',
>>>   geo=Geo(geo_point=GeoPoint(22.22, 44.44))
