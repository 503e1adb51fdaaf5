"""The legacy ClarifaiApp (clarifai 2.x) as its API reference shows it, over the V2 API: tag
images with the general model, and wait for uploads and deletions.

    modelwire serve --port 50051 --api-key dev-key        # in another terminal
    export CLARIFAI_API_BASE=http://127.0.0.1:50051 CLARIFAI_API_KEY=dev-key CLARIFAI_USER_ID=demo
    python examples/clarifai_legacy_app.py

The 2.x key named its app; V2 addresses the app explicitly: app_id= (or CLARIFAI_APP_ID).
"""

import io
import os
import tempfile
import uuid
from pathlib import Path

from PIL import Image as PILImage

from modelwire.clarifai import User
from modelwire.clarifai.legacy import ClarifaiApp, Image  # was: from clarifai.rest import ClarifaiApp, Image

APP_ID = f"legacy-app-{uuid.uuid4().hex[:6]}"
owner = User(user_id=os.environ["CLARIFAI_USER_ID"])
owner.create_app(APP_ID)

with tempfile.TemporaryDirectory() as tmp:
    files = []
    for name, color in (("metro-north", (150, 40, 40)), ("dog2", (30, 60, 200))):
        buffer = io.BytesIO()
        PILImage.new("RGB", (32, 32), color).save(buffer, "PNG")
        path = Path(tmp) / f"{name}.png"
        path.write_bytes(buffer.getvalue())
        files.append(str(path))

    app = ClarifaiApp(app_id=APP_ID)
    tagged = app.tag_files(files)  # by default with the general model ('general-v1.3')
    for output in tagged["outputs"]:
        print(output["input"]["id"], [c["name"] for c in output["data"]["concepts"][:3]])
    urls = [Path(f).as_uri() for f in files]
    print("tag_urls:", app.tag_urls(urls)["status"]["description"])

    app.inputs.bulk_create_images([Image(url=url, concepts=["sample"]) for url in urls])
    app.wait_until_inputs_upload_finish()
    status = app.inputs.check_status()
    print(f"processed {status.processed}, to process {status.to_process}, errors {status.errors}")

    app.inputs.delete_all()
    app.wait_until_inputs_delete_finish()
    print("inputs left:", len(app.inputs.get_by_page()))
    app.close()

owner.delete_app(APP_ID)
owner.close()
