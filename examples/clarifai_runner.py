"""A Runner serving a custom model: predictions on a runner-bound model reach your code.

    export CLARIFAI_API_BASE=http://127.0.0.1:50051 CLARIFAI_PAT=dev-key CLARIFAI_USER_ID=demo
    python examples/clarifai_runner.py

In the emulator a model is bound to a runner by `metadata={"runner_id": ...}` on the model.
"""

import os
import time
import uuid

from modelwire.clarifai import Runner, User
from modelwire.clarifai.api import resources_pb2

USER_ID = os.environ["CLARIFAI_USER_ID"]


class WordCounter(Runner):
    """A tiny custom model: counts words, says whether the text is long."""

    def run_input(
        self, input: resources_pb2.Input, output_info: resources_pb2.OutputInfo
    ) -> resources_pb2.Output:
        words = len(input.data.text.raw.split())
        limit = dict(output_info.params).get("long_after", 5)  # per-request params, with a default
        output = resources_pb2.Output()
        output.data.concepts.add(id="long", name="long", value=1.0 if words > limit else 0.0)
        output.data.text.raw = f"{words} words"
        return output


user = User(user_id=USER_ID)
runner_id = f"laptop-{uuid.uuid4().hex[:6]}"
user.create_runner(runner_id=runner_id, labels=["demo"], description="laptop runner")
app = user.create_app(f"runner-demo-{uuid.uuid4().hex[:6]}")
model = app.create_model("word-counter", model_type_id="text-classifier", metadata={"runner_id": runner_id})

runner = WordCounter(runner_id=runner_id, user_id=USER_ID, num_parallel_polls=2)
runner.start(blocking=False)  # in a service you would call start() and let it block
time.sleep(0.5)  # let the first poll reach the server
for text in (b"short text", b"this sentence has quite a few more words than five"):
    output = model.predict_by_bytes(text, input_type="text", inference_params={"long_after": 5}).outputs[0]
    if output.data.concepts:
        print(f"{text.decode()!r}: {output.data.text.raw}, long={output.data.concepts[0].value:.0f}")
    else:  # run_input raised: its message is in the output's status, the runner kept going
        print(f"{text.decode()!r}: failed: {output.status.description}")
runner.stop()
print("runner stopped; items served:", runner.items_done)
user.delete_runner(runner_id)
user.delete_app(app.id)
runner.close()
user.close()
