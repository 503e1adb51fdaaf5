"""Search, as in the Clarifai SDK documentation (only the import changed): vector search over the
emulator's real embeddings, plus filters.

    export CLARIFAI_API_BASE=http://127.0.0.1:50051 CLARIFAI_PAT=dev-key CLARIFAI_USER_ID=demo
    python examples/clarifai_search.py
"""

import os
import time
import uuid

from modelwire.clarifai.search import Search  # was: from clarifai.client.search import Search
from modelwire.clarifai.user import User  # was: from clarifai.client.user import User

USER_ID = os.environ["CLARIFAI_USER_ID"]
APP_ID = f"search-demo-{uuid.uuid4().hex[:6]}"
DOCS = {
    "cat-1": "a small cat sleeping on the sofa",
    "cat-2": "the kitten naps on a warm couch",
    "car-1": "a red sports car on the highway",
    "bread": "fresh bread and cheese for breakfast",
}

user = User(user_id=USER_ID)
inputs = user.create_app(APP_ID).inputs()
for input_id, text in DOCS.items():
    inputs.upload_text(input_id=input_id, raw_text=text, labels=[input_id.split("-")[0]])
while any(i.status.code != 30000 for i in inputs.list_inputs()):
    time.sleep(0.05)

# Get successful inputs of type image or text
search = Search(user_id=USER_ID, app_id=APP_ID, top_k=10, metric="cosine")
res = search.query(filters=[{"input_types": ["image", "text"]}, {"input_status_code": 30000}])
print("processed:", sorted(hit.input.id for page in res for hit in page.hits))  # a response per page

# Vector search over inputs
search = Search(user_id=USER_ID, app_id=APP_ID, top_k=2, metric="cosine")
for page in search.query(ranks=[{"text_raw": "a cat napping on a sofa"}]):
    for hit in page.hits:
        print(f"{hit.score:.3f} {hit.input.id}: {hit.input.data.text.raw}")

# Ranks and filters together, euclidean this time
search = Search(user_id=USER_ID, app_id=APP_ID, top_k=1, metric="euclidean")
(page,) = search.query(
    ranks=[{"text_raw": "sports car"}], filters=[{"concepts": [{"id": "car", "value": 1}]}]
)
print("best car:", page.hits[0].input.id)
user.delete_app(APP_ID)
user.close()
