"""Deterministic, weight-free embedders behind the Clarifai emulator's search.

The real service embeds inputs with trained models. The emulator has no model weights, so it
computes real (if simple) vectors locally, the same in every process and on every machine:

Text (`embed_text`, `TEXT_DIM` = 512 floats)
    Feature hashing of, after NFKC normalisation and case folding:

    * word unigrams (weight 1.0) and word bigrams (weight 0.5), words being ``\\w+`` runs;
    * character 3-, 4- and 5-grams of each word padded as ``<word>`` (weight 1.0), which make
      typos, inflections and unsegmented scripts (CJK) still overlap.

    Each distinct feature adds ``±(1 + ln count)`` (sublinear TF) to the bucket chosen by a keyed
    BLAKE2b hash of the feature (never Python's per-process ``hash()``). The sign comes from the
    same hash, so bucket collisions cancel out on average instead of piling up. Each feature group
    is L2-normalised, the groups are summed with the weights above, optionally multiplied by IDF
    weights (`TextIdf`), and the result is L2-normalised. Text with no characters other than
    whitespace embeds to the zero vector (see `is_zero`). Only the first `MAX_TEXT_CHARS` characters
    count.

Image (`embed_image`, `IMAGE_DIM` = 256 floats)
    The image is decoded at reduced size (JPEG DCT scaling via ``Image.draft``, then a thumbnail),
    EXIF-rotated, composited on white if transparent and resized to 64x64 RGB. Three blocks, each
    L2-normalised, are concatenated with equal weight and the whole is L2-normalised:

    * colour: 4x4x4 RGB histogram with soft (trilinear) binning, square-rooted (Hellinger), 64;
    * layout: 8x8 grayscale thumbnail, mean-centred, 64;
    * texture: 4x4 cells x 8 unsigned gradient orientations, magnitude-weighted and soft-binned, 128.

    Resized and recompressed copies of an image stay close; different images do not.

Any change to the constants or steps above changes the vector space: bump the matching version id
in `EMBEDDING_MODELS` so stored vectors are recomputed rather than compared across versions.
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps

__all__ = [
    "EMBEDDING_MODELS",
    "IMAGE_DIM",
    "IMAGE_EMBEDDING_MODEL_ID",
    "IMAGE_EMBEDDING_MODEL_VERSION_ID",
    "MAX_IMAGE_PIXELS",
    "MAX_TEXT_CHARS",
    "TEXT_DIM",
    "TEXT_EMBEDDING_MODEL_ID",
    "TEXT_EMBEDDING_MODEL_VERSION_ID",
    "EmbeddingError",
    "EmbeddingModel",
    "TextIdf",
    "decode_image",
    "embed_image",
    "embed_text",
    "is_zero",
]

TEXT_DIM = 512
IMAGE_DIM = 256
# Text vectors are wider than image vectors: hashed n-grams collide, and a distinct width also
# tells a raw query vector's modality apart.

MAX_TEXT_CHARS = 200_000
# Pixels allowed after JPEG draft reduction; bigger images are refused instead of decoded, which
# bounds memory and time per image (a PNG is decoded whole before it can be shrunk).
MAX_IMAGE_PIXELS = 40_000_000


class EmbeddingModel(NamedTuple):
    model_id: str
    version_id: str
    kind: str  # the input kind the model embeds: "text" or "image"
    dim: int


TEXT_EMBEDDING_MODEL_ID = "general-text-embedding"
TEXT_EMBEDDING_MODEL_VERSION_ID = "5e7c9a1f3b2d4c6e8a0b1c2d3e4f5a61"
IMAGE_EMBEDDING_MODEL_ID = "general-image-embedding"
IMAGE_EMBEDDING_MODEL_VERSION_ID = "9b3f2e1d0c4a5b6c7d8e9f0a1b2c3d41"

EMBEDDING_MODELS: Mapping[str, EmbeddingModel] = {
    TEXT_EMBEDDING_MODEL_ID: EmbeddingModel(
        TEXT_EMBEDDING_MODEL_ID, TEXT_EMBEDDING_MODEL_VERSION_ID, "text", TEXT_DIM
    ),
    IMAGE_EMBEDDING_MODEL_ID: EmbeddingModel(
        IMAGE_EMBEDDING_MODEL_ID, IMAGE_EMBEDDING_MODEL_VERSION_ID, "image", IMAGE_DIM
    ),
}


class EmbeddingError(ValueError):
    """The input cannot be embedded (for example, image bytes that do not decode)."""


def is_zero(vector: NDArray[Any]) -> bool:
    """True for the all-zero vector that `embed_text` returns for blank text."""
    return not bool(np.any(vector))


def _unit(vector: NDArray[np.float64]) -> NDArray[np.float64]:
    if vector.ndim == 1 and vector.dtype == np.float64 and vector.flags.c_contiguous:
        # What np.linalg.norm computes for such a vector, to the bit, without its checks and
        # dispatch, which cost more than the arithmetic at this size.
        norm = math.sqrt(float(vector.dot(vector)))
    else:
        norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0.0 else vector


# ---------------------------------------------------------------------------------------------
# Text


_WORD_RE = re.compile(r"\w+")
_CHAR_NGRAM_SIZES = (3, 4, 5)
_WORD_WEIGHT = 1.0
_BIGRAM_WEIGHT = 0.5
_CHAR_WEIGHT = 1.0
# The personalisation string keys the hash: a new scheme gets a new one, so old and new buckets
# never line up by accident.
_HASH_PERSON = b"modelwire-text1"


# Feature groups by prefix, each hashed into its own TEXT_DIM buckets and L2-normalised alone.
_GROUPS = {"w": 0, "b": 1, "c": 2}
# Feature -> (its bucket among all groups' len(_GROUPS) * TEXT_DIM, its sign). A dict read with
# map() in C: most features of a text recur across texts, and a call per feature costs more than
# the rest of the embedding. Bounded: emptied when full.
_SLOTS: dict[str, tuple[int, float]] = {}
_MAX_SLOTS = 1 << 17


def _slot(feature: str) -> tuple[int, float]:
    """The feature's bucket and sign, from its keyed hash (and now in `_SLOTS`)."""
    digest = hashlib.blake2b(
        feature.encode("utf-8", "surrogatepass"), digest_size=8, person=_HASH_PERSON
    ).digest()
    h = int.from_bytes(digest, "little")
    slot = (_GROUPS[feature[0]] * TEXT_DIM + h % TEXT_DIM, -1.0 if (h >> 63) & 1 else 1.0)
    if len(_SLOTS) >= _MAX_SLOTS:
        _SLOTS.clear()
    _SLOTS[feature] = slot
    return slot


def _hashed(counts: Counter[str]) -> NDArray[np.float64]:
    """The feature-hashed vector of each feature group, one row each."""
    size = len(_GROUPS) * TEXT_DIM
    if not counts:
        return np.zeros((len(_GROUPS), TEXT_DIM))
    slots = list(map(_SLOTS.get, counts))
    if None in slots:
        slots = [slot or _slot(feature) for slot, feature in zip(slots, counts, strict=True)]
    buckets, signs = zip(*slots, strict=True)
    # A feature's weight is sign * (1 + ln count): its sign when it occurs once (1 + ln 1 is
    # exactly 1), as most do; the log (math's, as always) only for the others.
    weights = np.array(signs)
    repeated = np.fromiter(counts.values(), dtype=np.intp, count=len(counts))
    for i in np.flatnonzero(repeated > 1).tolist():
        weights[i] = signs[i] * (1.0 + math.log(int(repeated[i])))
    # One bincount for all groups: the same sums, in the same order, as one per group.
    summed = np.bincount(np.array(buckets, dtype=np.intp), weights=weights, minlength=size)
    return summed.astype(np.float64, copy=False).reshape(len(_GROUPS), TEXT_DIM)  # float64 already


@functools.lru_cache(maxsize=1 << 16)
def _char_ngrams(piece: str) -> tuple[str, ...]:
    """A word's character n-gram features, in order (words recur: each is cut up once)."""
    padded = f"<{piece}>"
    return tuple("c\x1f" + padded[i : i + n] for n in _CHAR_NGRAM_SIZES for i in range(len(padded) - n + 1))


def _text_features(text: str) -> Counter[str]:
    """Every feature of the text with its count: words, then bigrams, then character n-grams, each
    group in the order of first occurrence (one counter: the prefixes keep the groups apart)."""
    norm = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS]).casefold()
    words = _WORD_RE.findall(norm)
    # Prefixes keep a word, a bigram and an n-gram with the same characters in distinct buckets.
    unigrams = ["w\x1f" + w for w in words]
    bigrams = [f"b\x1f{a}\x1f{b}" for a, b in itertools.pairwise(words)]
    # Punctuation-only text ("?!") still gets character features, so only blank text is zero.
    pieces = words or norm.split()
    return Counter(itertools.chain(unigrams, bigrams, *map(_char_ngrams, pieces)))


def _raw_text_vector(text: str) -> NDArray[np.float64]:
    unigrams, bigrams, chars = _hashed(_text_features(text))
    vector = _WORD_WEIGHT * _unit(unigrams) + _BIGRAM_WEIGHT * _unit(bigrams) + _CHAR_WEIGHT * _unit(chars)
    return _unit(vector)


class TextIdf:
    """Document frequencies per hash bucket, for IDF reweighting of text embeddings.

    A bucket counts as present in a document when the document's (IDF-free) embedding is non-zero
    there, so the counts can be rebuilt from stored vectors alone (`from_vectors`). Weights are the
    smoothed ``ln((1 + n) / (1 + df)) + 1``. Reweighting is diagonal, so
    ``idf.apply(embed_text(t)) == embed_text(t, idf)``: store IDF-free vectors and apply the current
    IDF at query time to both sides. Thread-safe.
    """

    def __init__(self, dim: int = TEXT_DIM) -> None:
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        self._df = np.zeros(dim, dtype=np.int64)
        self._n = 0
        self._lock = threading.Lock()

    @classmethod
    def from_vectors(cls, vectors: NDArray[Any]) -> TextIdf:
        """Counts for the rows of a (documents x dim) matrix of IDF-free embeddings."""
        matrix = np.asarray(vectors)
        if matrix.ndim != 2:
            raise ValueError(f"expected a 2-D matrix of vectors, got shape {matrix.shape}")
        idf = cls(matrix.shape[1])
        idf._df = np.count_nonzero(matrix, axis=0).astype(np.int64)
        idf._n = int(matrix.shape[0])
        return idf

    @property
    def n_docs(self) -> int:
        return self._n

    @property
    def dim(self) -> int:
        return int(self._df.size)

    def _present(self, text_or_vector: str | NDArray[Any]) -> NDArray[np.int64]:
        if isinstance(text_or_vector, str):
            vector: NDArray[Any] = _raw_text_vector(text_or_vector)
        else:
            vector = np.asarray(text_or_vector)
        if vector.shape != self._df.shape:
            raise ValueError(f"expected a vector of shape {self._df.shape}, got {vector.shape}")
        present: NDArray[np.int64] = (vector != 0).astype(np.int64)
        return present

    def add(self, text_or_vector: str | NDArray[Any]) -> None:
        """Count one document, given as its text or its IDF-free embedding."""
        present = self._present(text_or_vector)
        with self._lock:
            self._df += present
            self._n += 1

    def remove(self, text_or_vector: str | NDArray[Any]) -> None:
        """Uncount a document previously passed to `add`."""
        present = self._present(text_or_vector)
        with self._lock:
            if self._n == 0 or bool(np.any(self._df < present)):
                raise ValueError("removing a document that was not added")
            self._df -= present
            self._n -= 1

    def weights(self) -> NDArray[np.float64]:
        with self._lock:
            df, n = self._df.copy(), self._n
        result: NDArray[np.float64] = np.log((1.0 + n) / (1.0 + df)) + 1.0
        return result

    def apply(self, vector: NDArray[Any]) -> NDArray[np.float32]:
        """Reweight an IDF-free embedding and L2-normalise it again."""
        array = np.asarray(vector, dtype=np.float64)
        if array.shape != self._df.shape:
            raise ValueError(f"expected a vector of shape {self._df.shape}, got {array.shape}")
        return _unit(array * self.weights()).astype(np.float32)


def embed_text(text: str, idf: TextIdf | None = None) -> NDArray[np.float32]:
    """Embed text into `TEXT_DIM` float32s, L2-normalised (all zeros for blank text)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    vector = _raw_text_vector(text)
    if idf is not None:
        if idf.dim != TEXT_DIM:
            raise ValueError(f"idf has dim {idf.dim}, expected {TEXT_DIM}")
        vector = _unit(vector * idf.weights())
    return vector.astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Image


_WORK_SIZE = 64  # every image is compared at 64x64
_DECODE_SIZE = 256  # decode/thumbnail bound before the final, antialiased resize
_COLOUR_BINS = 4
_THUMB_SIZE = 8
_GRID_CELLS = 4
_ORIENTATIONS = 8
_LUMA = np.array([0.299, 0.587, 0.114])


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info):
        # Transparent pixels have arbitrary colour values; white is a fixed, common backdrop.
        rgba = img.convert("RGBA")
        backdrop = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(backdrop, rgba).convert("RGB")
    return img.convert("RGB")


def _decode(data: bytes | bytearray | memoryview) -> NDArray[np.float64]:
    """The image as a (64, 64, 3) float array in [0, 1]."""
    raw = bytes(data)
    if not raw:
        raise EmbeddingError("cannot embed image: the image data is empty")
    try:
        with Image.open(io.BytesIO(raw)) as opened:
            # JPEG only: decode at 1/2, 1/4 or 1/8 scale when the image is large (no-op otherwise).
            opened.draft("RGB", (_DECODE_SIZE, _DECODE_SIZE))
            width, height = opened.size
            if width * height > MAX_IMAGE_PIXELS:
                raise EmbeddingError(
                    f"cannot embed image: {width}x{height} pixels exceeds the limit of "
                    f"{MAX_IMAGE_PIXELS} pixels"
                )
            img = _to_rgb(ImageOps.exif_transpose(opened))
            img.thumbnail((_DECODE_SIZE, _DECODE_SIZE), Image.Resampling.BICUBIC)
            img = img.resize((_WORK_SIZE, _WORK_SIZE), Image.Resampling.LANCZOS)
            return np.asarray(img, dtype=np.float64) / 255.0
    except EmbeddingError:
        raise
    except Exception as exc:
        # Decoders fail on hostile or corrupt bytes with many exception types (OSError,
        # SyntaxError, struct.error, DecompressionBombError, ...): report them all the same way.
        raise EmbeddingError(
            f"cannot embed image: the data is not a decodable image ({type(exc).__name__}: {exc})"
        ) from exc


def _colour_block(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    bins = _COLOUR_BINS
    # Soft binning: each channel value splits between its two nearest bin centres, so colours
    # near a bin edge (and JPEG noise around them) do not flip from one bin to the next.
    pos = np.clip(rgb * bins - 0.5, 0.0, bins - 1.0).reshape(-1, 3)
    lo = np.minimum(np.floor(pos).astype(np.intp), bins - 2)
    frac = pos - lo
    hist = np.zeros(bins**3)
    for dr in (0, 1):
        for dg in (0, 1):
            for db in (0, 1):
                offsets = np.array([dr, dg, db])
                weight = np.prod(np.where(offsets == 1, frac, 1.0 - frac), axis=1)
                corner = lo + offsets
                index = (corner[:, 0] * bins + corner[:, 1]) * bins + corner[:, 2]
                hist += np.bincount(index, weights=weight, minlength=bins**3)
    # Square root of the distribution (Hellinger): unit norm already, and less dominated by the
    # one or two majority colours.
    result: NDArray[np.float64] = np.sqrt(hist / hist.sum())
    return result


def _layout_block(gray: NDArray[np.float64]) -> NDArray[np.float64]:
    step = _WORK_SIZE // _THUMB_SIZE
    thumb = gray.reshape(_THUMB_SIZE, step, _THUMB_SIZE, step).mean(axis=(1, 3)).ravel()
    # Mean-centred: brightness shifts do not move it, and a flat image contributes nothing.
    return _unit(thumb - thumb.mean())


def _texture_block(gray: NDArray[np.float64]) -> NDArray[np.float64]:
    gy, gx = np.gradient(gray)
    magnitude = np.hypot(gx, gy).ravel()
    angle = np.mod(np.arctan2(gy, gx), np.pi).ravel()  # unsigned: an edge and its inverse match
    pos = angle / (np.pi / _ORIENTATIONS) - 0.5
    lo = np.floor(pos).astype(np.intp)
    frac = pos - lo
    lo_bin = lo % _ORIENTATIONS
    hi_bin = (lo + 1) % _ORIENTATIONS
    cell_size = _WORK_SIZE // _GRID_CELLS
    rows, cols = np.indices(gray.shape)
    cell = ((rows // cell_size) * _GRID_CELLS + cols // cell_size).ravel()
    size = _GRID_CELLS * _GRID_CELLS * _ORIENTATIONS
    hist = np.bincount(cell * _ORIENTATIONS + lo_bin, weights=magnitude * (1.0 - frac), minlength=size)
    hist += np.bincount(cell * _ORIENTATIONS + hi_bin, weights=magnitude * frac, minlength=size)
    return _unit(hist.astype(np.float64))


def decode_image(data: bytes | bytearray | memoryview) -> NDArray[np.float64]:
    """The pixels `embed_image` sees: a (64, 64, 3) RGB array in [0, 1] (EmbeddingError as there)."""
    return _decode(data)


def embed_image(data: bytes | bytearray | memoryview) -> NDArray[np.float32]:
    """Embed encoded image bytes (any format Pillow reads) into `IMAGE_DIM` float32s, L2-normalised.

    Raises `EmbeddingError` for empty, undecodable or oversized (`MAX_IMAGE_PIXELS`) images.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"image data must be bytes, got {type(data).__name__}")
    rgb = _decode(data)
    gray = rgb @ _LUMA
    vector = np.concatenate([_colour_block(rgb), _layout_block(gray), _texture_block(gray)])
    return _unit(vector).astype(np.float32)
