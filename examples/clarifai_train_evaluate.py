"""Train a text classifier on a small labelled dataset, evaluate it, and predict — offline.

export CLARIFAI_API_BASE=http://127.0.0.1:50051 CLARIFAI_PAT=dev-key CLARIFAI_USER_ID=demo
python examples/clarifai_train_evaluate.py
"""

import os
import tempfile
import uuid
from pathlib import Path

from modelwire.clarifai import User

GOOD = ["great", "love", "excellent", "happy", "wonderful", "fantastic"]
BAD = ["terrible", "awful", "hate", "bad", "horrible", "disappointing"]
THINGS = ["phone", "hotel", "meal", "service", "movie"]
# 30 reviews per class: "<adjective> <thing>" sentences, enough for a real held-out evaluation.
EXAMPLES = {
    "positive": [
        f"a {word} {thing}, really {GOOD[(i + 1) % 6]}" for i, word in enumerate(GOOD) for thing in THINGS
    ],
    "negative": [
        f"a {word} {thing}, really {BAD[(i + 1) % 6]}" for i, word in enumerate(BAD) for thing in THINGS
    ],
}

user = User(user_id=os.environ["CLARIFAI_USER_ID"])
app = user.create_app(f"sentiment-{uuid.uuid4().hex[:6]}")
dataset = app.create_dataset("reviews")
inputs = app.inputs()
examples = [
    inputs.get_text_input(f"{label}-{i}", text, dataset_id=dataset.id, labels=[label])
    for label, texts in EXAMPLES.items()
    for i, text in enumerate(texts)
]
print("uploaded:", inputs.upload_inputs_bulk(examples, show_progress=False))

model = app.create_model("sentiment", model_type_id="text-classifier")
print("templates:", model.list_training_templates())
with tempfile.TemporaryDirectory() as tmp:
    params = model.get_params(template="LogisticRegression", save_to=str(Path(tmp) / "params.yaml"))
print("train params:", params["train_params"])
model.update_params(dataset_id=dataset.id, concepts=["positive", "negative"])
version_id = model.train()
status = model.wait_for_training(version_id)
print("training:", status.description or status.code)

evaluation = model.evaluate()
done = model.wait_for_evaluation(evaluation.id)
report = model.get_eval_by_id(evaluation.id, confusion_matrix=True, binary_metrics=True)
summary = done.summary
print(f"evaluation: top-1 accuracy {summary.top1_accuracy:.2f}, macro F1 {summary.macro_avg_f1_score:.2f}")
for metrics in report.binary_metrics:
    print(f"  {metrics.concept.id}: ROC AUC {metrics.roc_auc:.2f}, F1 {metrics.f1:.2f}")

for text in (b"what a wonderful and happy evening", b"an awful, horrible purchase"):
    response = model.predict_by_bytes(text, input_type="text", output_config={"max_concepts": 1})
    best = response.outputs[0].data.concepts[0]
    print(f"{text.decode()!r}: {best.id} ({best.value:.2f})")
user.delete_app(app.id)
user.close()
