"""Search with the legacy client (clarifai 2.x), as its API reference shows it: the search_by_*
helpers, and SearchQueryBuilder with InputSearchTerm / OutputSearchTerm.

    export CLARIFAI_API_BASE=http://127.0.0.1:50051 CLARIFAI_API_KEY=dev-key CLARIFAI_USER_ID=demo
    python examples/clarifai_legacy_search.py
"""

import io
import os
import uuid

from PIL import Image as PILImage

from modelwire.clarifai import User
from modelwire.clarifai.legacy import (  # was: from clarifai.rest import ...
    ClarifaiApp,
    Geo,
    GeoLimit,
    GeoPoint,
    InputSearchTerm,
    OutputSearchTerm,
    SearchQueryBuilder,
)


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (32, 32), color).save(buffer, "PNG")
    return buffer.getvalue()


APP_ID = f"legacy-search-{uuid.uuid4().hex[:6]}"
owner = User(user_id=os.environ["CLARIFAI_USER_ID"])
owner.create_app(APP_ID)
app = ClarifaiApp(app_id=APP_ID)

app.inputs.create_image_from_bytes(
    png((220, 20, 20)),
    image_id="red",
    concepts=["cat"],
    metadata={"name": "bla"},
    geo=Geo(geo_point=GeoPoint(30, 40)),
)
app.inputs.create_image_from_bytes(
    png((20, 20, 220)), image_id="blue", concepts=["dog"], not_concepts=["cat"]
)
app.wait_until_inputs_upload_finish()


def ids(images: list) -> list:
    return [i.input_id for i in images]


print("annotated cat:", ids(app.inputs.search_by_annotated_concepts(concept="cat")))
print("not cat:", ids(app.inputs.search_by_annotated_concepts(concept="cat", value=False)))
print("metadata:", ids(app.inputs.search_by_metadata(metadata={"name": "bla"})))
print("geo:", ids(app.inputs.search_by_geo(GeoPoint(30, 40), GeoLimit("mile", 10))))
hits = app.inputs.search_by_image(imgbytes=png((230, 30, 30)))
print("looks like red:", [(h.input_id, round(h.score or 0, 3)) for h in hits])

qb = SearchQueryBuilder()
qb.add_term(InputSearchTerm(metadata={"name": "bla"}))
qb.add_term(OutputSearchTerm(input_id="blue"))
print("query:", qb.dict())
print("builder:", ids(app.inputs.search(qb)))

app.close()
owner.delete_app(APP_ID)
owner.close()
