"""Tests for the Clarifai emulator's deterministic text and image embedders."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image, ImageDraw

from modelwire.emulator.clarifai import embeddings
from modelwire.emulator.clarifai.embeddings import (
    EMBEDDING_MODELS,
    IMAGE_DIM,
    IMAGE_EMBEDDING_MODEL_ID,
    TEXT_DIM,
    TEXT_EMBEDDING_MODEL_ID,
    EmbeddingError,
    TextIdf,
    embed_image,
    embed_text,
    is_zero,
)


def scene(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """A reproducible picture: a background colour and eight filled shapes."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", size, tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x0, y0 = int(rng.integers(0, size[0])), int(rng.integers(0, size[1]))
        x1, y1 = x0 + int(rng.integers(20, 150)), y0 + int(rng.integers(20, 150))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
    return img


def encode(img: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a.astype(np.float64), b.astype(np.float64)))


# ---------------------------------------------------------------------------------------------
# Text


def test_text_shape_dtype_and_unit_norm() -> None:
    for text in ["hello", "The quick brown fox jumps over the lazy dog.", "東京タワー", "?!", "x" * 5000]:
        vector = embed_text(text)
        assert vector.shape == (TEXT_DIM,) and vector.dtype == np.float32
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_blank_text_is_the_zero_vector() -> None:
    for text in ["", "   ", "\n\t"]:
        vector = embed_text(text)
        assert is_zero(vector) and vector.shape == (TEXT_DIM,)
    assert not is_zero(embed_text("?!"))  # punctuation still has character n-grams


def test_text_known_value_pins_the_hash() -> None:
    # Computed once; changes only if the feature scheme or the hash changes (then bump the
    # model version id, stored vectors are no longer comparable).
    vector = embed_text("The quick brown fox")
    nonzero = np.flatnonzero(vector)[:4]
    assert nonzero.tolist() == [2, 4, 25, 35]
    assert [round(float(x), 4) for x in vector[nonzero]] == [-0.1111, -0.1111, 0.1111, 0.1111]


def test_text_and_image_are_stable_across_processes() -> None:
    image = encode(scene(3))
    script = textwrap.dedent(
        """
        import sys
        from modelwire.emulator.clarifai.embeddings import embed_image, embed_text
        image = sys.stdin.buffer.read()
        print(embed_text("Déjà vu: the quick brown fox").tobytes().hex())
        print(embed_image(image).tobytes().hex())
        """
    )
    expected = [
        embed_text("Déjà vu: the quick brown fox").tobytes().hex(),
        embed_image(image).tobytes().hex(),
    ]
    for seed in ("1", "12345"):
        # A different PYTHONHASHSEED changes str hashes: the embedding must not depend on them.
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", script], input=image, capture_output=True, env=env, check=True
        )
        assert result.stdout.decode().split() == expected


def test_text_is_deterministic_in_process() -> None:
    assert np.array_equal(embed_text("same text"), embed_text("same text"))


def test_similar_texts_are_closer_than_unrelated() -> None:
    fox1 = embed_text("the quick brown fox jumps over the lazy dog")
    fox2 = embed_text("a quick brown fox jumped over a lazy dog")
    markets = embed_text("stock markets fell sharply on tuesday")
    cake1 = embed_text("recipe for chocolate cake")
    cake2 = embed_text("how to bake a chocolate cake")
    assert cos(fox1, fox2) > cos(fox1, markets) + 0.3
    assert cos(cake1, cake2) > cos(cake1, fox1) + 0.2
    assert cos(cake1, cake2) > cos(cake1, markets) + 0.2


def test_text_tolerates_spelling_and_inflection() -> None:
    query = embed_text("colour photographs of mountains")
    near = embed_text("color photograph of a mountain")
    far = embed_text("minutes of the annual budget meeting")
    assert cos(query, near) > cos(query, far) + 0.2


def test_text_is_case_and_width_insensitive() -> None:
    assert np.array_equal(embed_text("Hello World"), embed_text("hello world"))
    assert np.array_equal(
        embed_text("\uff28\uff25\uff2c\uff2c\uff2f"), embed_text("hello")
    )  # full-width HELLO: NFKC folds it


def test_text_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="text must be str"):
        embed_text(b"bytes")  # type: ignore[arg-type]


def test_idf_apply_equals_embedding_with_idf() -> None:
    corpus = ["a photo of a cat", "a photo of a dog", "a photo of a red bicycle", "tax forms"]
    idf = TextIdf()
    for text in corpus:
        idf.add(text)
    assert idf.n_docs == 4
    direct = embed_text("a photo of a bicycle", idf)
    applied = idf.apply(embed_text("a photo of a bicycle"))
    assert np.allclose(direct, applied, atol=1e-6)
    assert np.linalg.norm(direct) == pytest.approx(1.0, abs=1e-5)
    from_matrix = TextIdf.from_vectors(np.stack([embed_text(t) for t in corpus]))
    assert np.allclose(from_matrix.weights(), idf.weights())


def test_idf_weights_rare_buckets_higher() -> None:
    idf = TextIdf()
    for text in ["a photo of a cat", "a photo of a dog", "a photo of a bird"]:
        idf.add(text)
    weights = idf.weights()
    common = np.flatnonzero(embed_text("photo"))
    rare = np.flatnonzero(embed_text("zebra"))
    assert weights[common].mean() < weights[rare].mean()
    assert weights.min() >= 1.0  # smoothed: never zero or negative


def test_idf_remove_and_errors() -> None:
    idf = TextIdf()
    idf.add("alpha beta")
    idf.add(embed_text("gamma"))
    idf.remove("alpha beta")
    assert idf.n_docs == 1
    with pytest.raises(ValueError, match="not added"):
        idf.remove("alpha beta")
    with pytest.raises(ValueError, match="shape"):
        idf.add(np.zeros(3))
    with pytest.raises(ValueError, match="2-D"):
        TextIdf.from_vectors(np.zeros(3))
    with pytest.raises(ValueError, match="dim"):
        embed_text("x", TextIdf(dim=8))


# ---------------------------------------------------------------------------------------------
# Image


def test_image_shape_dtype_and_unit_norm() -> None:
    vector = embed_image(encode(scene(0)))
    assert vector.shape == (IMAGE_DIM,) and vector.dtype == np.float32
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    flat = embed_image(encode(Image.new("RGB", (50, 50), (10, 200, 30))))
    assert np.linalg.norm(flat) == pytest.approx(1.0, abs=1e-5)  # colour alone carries a flat image


def test_image_copies_are_nearer_than_different_images() -> None:
    originals = [scene(seed) for seed in range(6)]
    vectors = [embed_image(encode(img)) for img in originals]
    closest_other = max(cos(a, b) for i, a in enumerate(vectors) for b in vectors[i + 1 :])
    rng = np.random.default_rng(0)
    for img, vector in zip(originals, vectors, strict=True):
        smaller_jpeg = encode(img.resize((160, 120), Image.Resampling.BILINEAR), "JPEG", quality=60)
        larger_jpeg = encode(img.resize((1280, 960)), "JPEG", quality=85)  # exercises JPEG draft
        noisy_pixels = np.asarray(img, dtype=np.float64) + rng.normal(0.0, 8.0, (240, 320, 3))
        noisy = encode(Image.fromarray(np.clip(noisy_pixels, 0, 255).astype(np.uint8)))
        for copy in (smaller_jpeg, larger_jpeg, noisy):
            similarity = cos(vector, embed_image(copy))
            assert similarity > 0.98
            assert similarity > closest_other + 0.3


def test_image_ignores_format_and_mode_round_trips() -> None:
    img = scene(1)
    png = embed_image(encode(img))
    assert cos(png, embed_image(encode(img, "BMP"))) > 0.9999
    assert cos(png, embed_image(encode(img.convert("RGBA")))) > 0.9999  # opaque alpha changes nothing
    assert cos(png, embed_image(encode(img.quantize(64)))) > 0.97  # palette image


def test_image_transparency_composites_on_white() -> None:
    clear = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    white = Image.new("RGB", (40, 40), (255, 255, 255))
    assert cos(embed_image(encode(clear)), embed_image(encode(white))) > 0.9999


def test_image_grayscale_decodes() -> None:
    gray = scene(2).convert("L")
    assert cos(embed_image(encode(gray)), embed_image(encode(gray.convert("RGB")))) > 0.9999


def test_image_exif_orientation_is_applied() -> None:
    upright = scene(4)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what such a camera writes
    tagged = embed_image(encode(stored, "JPEG", quality=95, exif=exif))
    untagged = embed_image(encode(stored, "JPEG", quality=95))
    reference = embed_image(encode(upright))
    assert cos(tagged, reference) > 0.98
    assert cos(tagged, reference) > cos(untagged, reference) + 0.1


def test_image_is_deterministic() -> None:
    data = encode(scene(5), "JPEG")
    assert np.array_equal(embed_image(data), embed_image(bytearray(data)))
    assert np.array_equal(embed_image(data), embed_image(memoryview(data)))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"definitely not an image", "not a decodable image"),
        (encode(scene(0))[:200], "not a decodable image"),  # truncated PNG
    ],
)
def test_undecodable_image_raises_embedding_error(data: bytes, message: str) -> None:
    with pytest.raises(EmbeddingError, match=message) as info:
        embed_image(data)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith("cannot embed image")


def test_oversized_image_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(EmbeddingError, match="exceeds the limit"):
        embed_image(encode(Image.new("RGB", (20, 20))))


def test_image_rejects_non_bytes() -> None:
    with pytest.raises(TypeError, match="must be bytes"):
        embed_image("not bytes")  # type: ignore[arg-type]


def test_model_constants() -> None:
    text = EMBEDDING_MODELS[TEXT_EMBEDDING_MODEL_ID]
    image = EMBEDDING_MODELS[IMAGE_EMBEDDING_MODEL_ID]
    assert (text.kind, text.dim) == ("text", TEXT_DIM)
    assert (image.kind, image.dim) == ("image", IMAGE_DIM)
    for model in (text, image):
        assert len(model.version_id) == 32 and int(model.version_id, 16) >= 0
    assert text.version_id != image.version_id
