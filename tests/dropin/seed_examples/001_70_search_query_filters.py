# seed: 001_cebb3c8512ab503e.txt lines 2042-2045
# Clarifai Python SDK API reference (clarifai): Search.query()
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
# Get successful inputs of type image or text
from clarifai.client.search import Search
search = Search(user_id='user_id', app_id='app_id', top_k=10, metric='cosine')
res = search.query(filters=[{'input_types': ['image', 'text']}, {'input_status_code': 30000}])
