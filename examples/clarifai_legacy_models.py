"""app.models and Model of the legacy client (clarifai 2.x), as its API reference shows them:
create, find (by id or name, cached), update concepts, predict, versions and feedback.

    export CLARIFAI_API_BASE=http://127.0.0.1:50051 CLARIFAI_API_KEY=dev-key CLARIFAI_USER_ID=demo
    python examples/clarifai_legacy_models.py
"""

import io
import os
import uuid

from PIL import Image as PILImage

from modelwire.clarifai import User
from modelwire.clarifai.legacy import ClarifaiApp  # was: from clarifai.rest import ClarifaiApp

APP_ID = f"legacy-models-{uuid.uuid4().hex[:6]}"
owner = User(user_id=os.environ["CLARIFAI_USER_ID"])
owner.create_app(APP_ID)
app = ClarifaiApp(app_id=APP_ID)

buffer = io.BytesIO()
PILImage.new("RGB", (32, 32), (200, 40, 40)).save(buffer, "PNG")
image = buffer.getvalue()

# Public models: the general model, found by its legacy name.
general = app.models.get("general-v1.3")
prediction = general.predict_by_bytes(image, max_concepts=3)
print(general.model_id, "->", [c["name"] for c in prediction["outputs"][0]["data"]["concepts"]])
print("search:", [m.model_id for m in app.models.search("general*") or []])

# Custom models.
app.concepts.bulk_create(["bird", "fish", "hurd"])
app.models.create("my_model1")
app.models.create("my_model2", model_name="My Model", concepts=["bird", "fish"])
model = app.models.get("My Model")  # resolved once, then cached
model.add_concepts(["hurd"])
model.delete_concepts(["fish"])
model.update(model_name="new_model_name", concepts_mutually_exclusive=True)
print(model.model_id, model.model_name, model.get_concept_ids())
print("app models:", [m.model_id for m in app.models.get_all(private_only=True)])

# Feedback on a prediction is kept as an annotation of the input.
app.inputs.create_image_from_bytes(image, image_id="red")
model.send_concept_feedback("red", None, concepts=["bird"], not_concepts=["hurd"])
print("inputs of the model:", [i.input_id for i in model.get_inputs()])

print("delete:", app.models.delete("my_model1")["status"]["description"])
app.models.delete_all()
app.wait_until_models_delete_finish()
print("left:", [m.model_id for m in app.models.get_all(private_only=True)])

app.close()
owner.delete_app(APP_ID)
owner.close()
