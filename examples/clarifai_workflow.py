"""A workflow that chains the built-in text embedder into a classifier, exported to YAML and back.

export CLARIFAI_API_BASE=http://127.0.0.1:50051 CLARIFAI_PAT=dev-key CLARIFAI_USER_ID=demo
python examples/clarifai_workflow.py
"""

import os
import tempfile
import uuid
from pathlib import Path

from modelwire.clarifai import User

user = User(user_id=os.environ["CLARIFAI_USER_ID"])
app = user.create_app(f"workflow-{uuid.uuid4().hex[:6]}")
with tempfile.TemporaryDirectory() as tmp:
    config = Path(tmp) / "workflow.yaml"
    config.write_text(
        "workflow:\n"
        "  id: text-insights\n"
        "  nodes:\n"
        "    - id: embed\n"
        "      model: {model_id: general-text-embedding, user_id: clarifai, app_id: main}\n"
        "    - id: sentiment\n"
        "      model: {model_id: general-text-classification, user_id: clarifai, app_id: main}\n"
    )
    workflow = app.create_workflow(config_filepath=str(config))
    result = workflow.predict_by_bytes(b"I really enjoyed the concert", input_type="text").results[0]
    for output in result.outputs:
        if output.data.embeddings:
            print(f"{output.model.id}: embedding of {output.data.embeddings[0].num_dimensions} dimensions")
        else:
            print(f"{output.model.id}:", [(c.name, round(c.value, 2)) for c in output.data.concepts[:3]])
    exported = workflow.export(str(Path(tmp) / "exported.yaml"))
    copy = app.create_workflow(config_filepath=str(exported), generate_new_id=True, display=False)
    print("round trip:", copy.id, [n.id for n in copy.workflow_info.nodes])
    print("versions:", [w.version_id for w in workflow.list_versions()])
user.delete_app(app.id)
user.close()
