# seed: 001_cebb3c8512ab503e.txt lines 2047-2050
# Clarifai Python SDK API reference (clarifai): Search.query()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
# Vector search over inputs
from clarifai.client.search import Search
search = Search(user_id='user_id', app_id='app_id', top_k=1, metric='cosine')
res = search.query(ranks=[{'image_url': 'https://samples.clarifai.com/dog.tiff'}])
