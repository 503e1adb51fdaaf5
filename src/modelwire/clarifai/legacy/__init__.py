"""The legacy Clarifai client (`ClarifaiApp`, clarifai 2.x style) over the V2 gRPC API.

    from modelwire.clarifai.legacy import ClarifaiApp, Image

    app = ClarifaiApp(api_key="...")  # an app's API key names the app (or CLARIFAI_API_KEY)
    # with a personal access token: ClarifaiApp(app_id="my-app", user_id="me", api_key="<PAT>")
    app.inputs.create_image(Image(url="https://samples.clarifai.com/metro-north.jpg", concepts=["train"]))
    print(app.tag_urls(["https://samples.clarifai.com/metro-north.jpg"])["outputs"][0]["data"]["concepts"])

Names and parameters are the published 2.x client's; every call is a V2 RPC made by the modern
SDK's machinery (one shared connection, deadlines, retries, typed errors). How each legacy
feature maps onto V2 is documented in `client`, `inputs`, `models`, `search` and `types`; the
gaps (crop, closed_environment) fail with a UserError that says what to do instead, and an
`app_secret` is ignored with a DeprecationWarning (V2 has no id/secret tokens).
Methods that returned JSON return dicts with snake_case keys and integer status codes.
"""

from modelwire.clarifai.errors import ApiClientError, ApiError, UserError
from modelwire.clarifai.legacy.client import Auth, ClarifaiApp
from modelwire.clarifai.legacy.concepts import Concepts
from modelwire.clarifai.legacy.geo import Geo, GeoBox, GeoLimit, GeoPoint
from modelwire.clarifai.legacy.inputs import Inputs
from modelwire.clarifai.legacy.models import Model, Models
from modelwire.clarifai.legacy.search import InputSearchTerm, OutputSearchTerm, SearchQueryBuilder, SearchTerm
from modelwire.clarifai.legacy.types import (
    ApiStatus,
    BoundingBox,
    Concept,
    FeedbackInfo,
    Image,
    Input,
    InputCounts,
    Region,
    RegionInfo,
    Video,
)

__all__ = [
    "ApiClientError",
    "ApiError",
    "ApiStatus",
    "Auth",
    "BoundingBox",
    "ClarifaiApp",
    "Concept",
    "Concepts",
    "FeedbackInfo",
    "Geo",
    "GeoBox",
    "GeoLimit",
    "GeoPoint",
    "Image",
    "Input",
    "InputCounts",
    "InputSearchTerm",
    "Inputs",
    "Model",
    "Models",
    "OutputSearchTerm",
    "Region",
    "RegionInfo",
    "SearchQueryBuilder",
    "SearchTerm",
    "UserError",
    "Video",
]
