# seed: 002_66819ad5547d5568.txt lines 530-531
# clarifai 2.x API reference (ClarifaiApp): Inputs.update()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> new_img = Image(image_id="abc", concepts=['c1', 'c2'], not_concepts=['c3'], metadata={'key':'val'})
>>> app.inputs.update(new_img, action='overwrite')
