"""app.inputs of the legacy client (clarifai 2.x), as its API reference shows them: add images with
concepts, metadata and geo, label them, read them back, and see the general model's outputs.

    export CLARIFAI_API_BASE=http://127.0.0.1:50051 CLARIFAI_API_KEY=dev-key CLARIFAI_USER_ID=demo
    python examples/clarifai_legacy_inputs.py
"""

import io
import os
import uuid

from PIL import Image as PILImage

from modelwire.clarifai import User
from modelwire.clarifai.legacy import ClarifaiApp, Geo, GeoPoint, Image  # was: from clarifai.rest import ...


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 32), color).save(buffer, "PNG")
    return buffer.getvalue()


APP_ID = f"legacy-inputs-{uuid.uuid4().hex[:6]}"
owner = User(user_id=os.environ["CLARIFAI_USER_ID"])
owner.create_app(APP_ID)
app = ClarifaiApp(app_id=APP_ID)

app.inputs.create_image_from_bytes(
    png((210, 30, 30)),
    image_id="red",
    concepts=["red"],
    metadata={"key": "val"},
    geo=Geo(geo_point=GeoPoint(22.22, 44.44)),
)
img1 = Image(file_obj=io.BytesIO(png((30, 30, 210))), image_id="blue", concepts=["cat", "kitty"])
img2 = Image(
    file_obj=io.BytesIO(png((30, 200, 30))), image_id="green", concepts=["dog"], not_concepts=["cat"]
)
app.inputs.bulk_create_images([img1, img2])
app.wait_until_inputs_upload_finish()

for image in app.inputs.get_all():
    print(image.input_id, image.concepts, image.not_concepts, image.status.code if image.status else None)

app.inputs.add_concepts("red", ["warm"], ["cold"])
app.inputs.bulk_merge_concepts(["blue"], [[("sky", True), ("grass", False)]])
app.inputs.delete_concepts("blue", ["kitty"])
app.inputs.merge_metadata("red", {"key1": "value1"})
app.inputs.update(Image(image_id="green", concepts=["c1", "c2"], metadata={"key": "val"}), action="overwrite")
red = app.inputs.get("red")
print("red:", red.concepts, red.not_concepts, red.metadata)

outputs = app.inputs.get_outputs("red")["outputs"][0]["data"]["concepts"]
print("general model sees:", [c["name"] for c in outputs[:3]])
app.inputs.merge_outputs_concepts("red", ["crimson"])
app.inputs.remove_outputs_concepts("red", ["dark"])
corrected = app.inputs.get_outputs("red")["outputs"][0]["data"]["concepts"]
print("with corrections:", [c["id"] for c in corrected[:3]])

print("delete:", app.inputs.delete("green").code)
print("left:", [i.input_id for i in app.inputs.get_by_page(1, 10)])

app.close()
owner.delete_app(APP_ID)
owner.close()
