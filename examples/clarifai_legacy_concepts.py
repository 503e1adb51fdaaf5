"""app.concepts of the legacy client (clarifai 2.x), as its API reference shows them.

export CLARIFAI_API_BASE=http://127.0.0.1:50051 CLARIFAI_API_KEY=dev-key CLARIFAI_USER_ID=demo
python examples/clarifai_legacy_concepts.py
"""

import os
import uuid

from modelwire.clarifai import User
from modelwire.clarifai.legacy import ClarifaiApp  # was: from clarifai.rest import ClarifaiApp

APP_ID = f"legacy-concepts-{uuid.uuid4().hex[:6]}"
owner = User(user_id=os.environ["CLARIFAI_USER_ID"])
owner.create_app(APP_ID)
app = ClarifaiApp(app_id=APP_ID)

app.concepts.bulk_create(["id1", "id2"], ["cute cat", "cute dog"])
app.concepts.create("myid1", "angry cat")
print("get:", app.concepts.get("id1"))
for concept in app.concepts.get_by_page(1, 10):
    print("page 1:", concept.concept_id, concept.concept_name)
print("all:", sorted(c.concept_id for c in app.concepts.get_all()))
print("search 'cute*':", [c.concept_name for c in app.concepts.search("cute*")])
print("search '*cat' in English:", [c.concept_name for c in app.concepts.search("*cat", lang="en")])
app.concepts.update(concept_id="myid1", concept_name="new_concept_name2")
app.concepts.bulk_update(concept_ids=["id1", "id2"], concept_names=["name2", "name3"])
print("renamed:", sorted(c.concept_name for c in app.concepts.get_all()))

app.close()
owner.delete_app(APP_ID)
owner.close()
