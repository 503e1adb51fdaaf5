# seed: 002_66819ad5547d5568.txt lines 207-209
# clarifai 2.x API reference (ClarifaiApp): Inputs.bulk_update()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> new_img1 = Image(image_id="abc1", concepts=['c1', 'c2'], not_concepts=['c3'], metadata={'key':'val'})
>>> new_img2 = Image(image_id="abc2", concepts=['c1', 'c2'], not_concepts=['c3'], metadata={'key':'val'})
>>> app.inputs.update([new_img1, new_img2], action='overwrite')
