"""The Clarifai SDK documentation's data-plane calls, with only the import lines changed:
User, App, Dataset, Inputs, Lister, Chunker.

    modelwire serve --port 50051 --api-key dev-key        # in another terminal
    export CLARIFAI_API_BASE=http://127.0.0.1:50051 CLARIFAI_PAT=dev-key CLARIFAI_USER_ID=demo
    python examples/clarifai_data.py
"""

import io
import os
import tempfile
import uuid
from pathlib import Path

from PIL import Image

from modelwire.clarifai import App, Chunker, Dataset, Inputs, User  # was: from clarifai.client... import ...

USER_ID = os.environ["CLARIFAI_USER_ID"]
APP_ID = f"demo-app-{uuid.uuid4().hex[:6]}"


def image_bytes(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(buffer, "PNG")
    return buffer.getvalue()


client = User(user_id=USER_ID)
app = client.create_app(app_id=APP_ID, base_workflow="Universal")
print("apps:", [a.id for a in client.list_apps()][:5])

app = App(app_id=APP_ID, user_id=USER_ID)
dataset = app.create_dataset(dataset_id="demo_dataset")
print("datasets:", [d.id for d in app.list_datasets()])

with tempfile.TemporaryDirectory() as tmp:
    csv_path = Path(tmp) / "notes.csv"
    csv_path.write_text("input,concepts\nbuy milk,todo\ncall the plumber,todo\nhappy birthday,greeting\n")
    dataset = Dataset(user_id=USER_ID, app_id=APP_ID, dataset_id="demo_dataset")
    summary = dataset.upload_from_csv(csv_path=str(csv_path), input_type="text", csv_type="raw", labels=True)
    print("csv upload:", summary)

    folder = Path(tmp) / "images" / "red"
    folder.mkdir(parents=True)
    (folder / "red-square.png").write_bytes(image_bytes((220, 20, 20)))
    print(
        "folder upload:",
        dataset.upload_from_folder(folder_path=str(folder.parent), input_type="image", labels=True),
    )

    dataset_version = dataset.create_version(description="dataset_version_description")
    print("versions:", [v.version_id for v in dataset.list_versions()])
    exported = dataset.export(save_path=str(Path(tmp) / "output.zip"))
    print("exported:", exported.name)

input_obj = User(user_id=USER_ID).app(app_id=APP_ID).inputs()
input_obj.upload_text(input_id="demo", raw_text="This is a test")
input_obj.upload_from_bytes(input_id="blue", image_bytes=image_bytes((20, 20, 220)))
input_protos = [input_obj.get_text_input(input_id=f"bulk-{i}", raw_text=f"note {i}") for i in range(300)]
print("bulk upload:", input_obj.upload_inputs_bulk(input_protos, show_progress=False))
all_inputs = list(input_obj.list_inputs())
print("inputs:", len(all_inputs), "text inputs:", len(list(input_obj.list_inputs(input_type="text"))))
annotation = Inputs.get_bbox_proto(input_id="blue", label="square", bbox=[0.1, 0.1, 0.9, 0.9])
print("failed annotations:", input_obj.upload_annotations([annotation]))
print("annotations:", len(list(input_obj.list_annotations(batch_input=all_inputs))))
print("concepts:", sorted(c.id for c in app.list_concepts()))
print("chunks:", [len(c) for c in Chunker(all_inputs, 128).chunk()])
input_obj.delete_inputs(input_obj.list_inputs())
client.delete_app(app_id=APP_ID)
client.close()
