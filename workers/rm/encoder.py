"""Frozen text encoder: texts -> L2-normalised mean-pooled embeddings, float32 (N, D).

Mean pooling over the attention mask is what all-MiniLM-L6-v2 (the default) was trained with;
L2 normalisation puts every text on the unit sphere, so the reward heads see direction only
and a long, verbose response gets no larger feature norm than a short one.

EncoderConfig.layers pools several hidden layers from the same forward pass, each normalised
on its own and concatenated: views of one text that a sentence encoder's last layer alone
has partly discarded. `Encoder.with_layers` gives such a view of an already loaded model.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workers.rm.config import EncoderConfig
from workers.rm.device import (
    length_sorted_batches,
    pad_batch,
    resolve_device,
    resolve_dtype,
    torch_threads,
)
from workers.rm.progress import CancelCheck, CountProgress, raise_if_cancelled
from workers.rm.text import load_tokenizer, tokenize_left

# Enough of a weight file to tell fine-tuned variants apart without reading gigabytes.
_FINGERPRINT_BYTES = 1 << 20


def model_fingerprint(model: str) -> str:
    """A stable id of a model's weights, for cache keys.

    A local folder is identified by its config and the size and first MiB of each weight file,
    not by its path, so the cache still hits after the virtualenv or volume moves. A hub name
    is taken as it is.
    """
    folder = Path(model)
    if not folder.is_dir():
        return f"name:{model}"
    digest = hashlib.sha256()
    config = folder / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    weight_files = sorted(p for p in folder.iterdir() if p.suffix in {".safetensors", ".bin"})
    for path in weight_files:
        digest.update(f"{path.name}:{path.stat().st_size}".encode())
        with path.open("rb") as handle:
            digest.update(handle.read(_FINGERPRINT_BYTES))
    return f"{folder.name}:{digest.hexdigest()[:16]}"


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Masked mean over tokens, L2-normalised, in float32 whatever the model dtype."""
    weights = mask.unsqueeze(-1).to(torch.float32)
    summed = (hidden.to(torch.float32) * weights).sum(dim=1)
    pooled = summed / weights.sum(dim=1).clamp_min(1.0)
    return torch.nn.functional.normalize(pooled, p=2.0, dim=-1)


class Encoder:
    """Any Hugging Face encoder (AutoModel) used frozen, in inference mode."""

    def __init__(self, config: EncoderConfig | None = None) -> None:
        from transformers import AutoModel

        self.config = config if config is not None else EncoderConfig()
        if self.config.pooling != "mean":
            raise ValueError(f"unknown pooling {self.config.pooling!r}; only 'mean' is built")
        self.device = resolve_device(self.config.device)
        self.dtype = resolve_dtype(self.config.dtype, device=self.device)
        self.tokenizer = load_tokenizer(self.config.model)
        model = AutoModel.from_pretrained(self.config.model, dtype=self.dtype)
        self.model: Any = model.to(self.device).eval()
        if self.config.quantize == "int8":
            if self.device.type != "cpu":
                raise ValueError("int8 quantization is a cpu path; use bf16 on a gpu")
            self.model = torch.ao.quantization.quantize_dynamic(
                self.model, {torch.nn.Linear}, dtype=torch.qint8
            )
        elif self.config.quantize != "none":
            raise ValueError(f"unknown quantize {self.config.quantize!r}; none or int8")
        self.fingerprint = model_fingerprint(self.config.model)
        self._check_layers()

    def _check_layers(self) -> None:
        n_hidden = int(self.model.config.num_hidden_layers)
        for layer in self.config.layers:
            if not -n_hidden - 1 <= layer <= n_hidden:
                raise ValueError(
                    f"layer {layer} is out of range for {self.config.model} "
                    f"({n_hidden} layers; 0 = token embeddings, -1 = last)"
                )

    def with_layers(self, layers: Sequence[int]) -> Encoder:
        """The same loaded model pooling `layers` (see EncoderConfig.layers); self when they are
        what this encoder pools already."""
        layers = tuple(int(layer) for layer in layers)
        if layers == self.config.layers:
            return self
        view = object.__new__(Encoder)
        view.__dict__.update(self.__dict__)
        view.config = dataclasses.replace(self.config, layers=layers)
        view._check_layers()
        return view

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size) * max(len(self.config.layers), 1)

    @property
    def cache_key(self) -> dict[str, Any]:
        """What decides an embedding's value. dtype and device are left out on purpose: bf16
        and fp32 vectors agree to ~1e-3 cosine, and a CPU rescoring must reuse GPU embeddings."""
        key: dict[str, Any] = {
            "encoder": self.fingerprint,
            "max_length": self.config.max_length,
            "pooling": self.config.pooling,
            "normalize": True,
        }
        if self.config.layers:
            key["layers"] = list(self.config.layers)
        if self.config.quantize != "none":
            key["quantize"] = self.config.quantize
        return key

    def encode(
        self,
        texts: Sequence[str],
        *,
        progress: CountProgress | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray:
        """(N, D) embeddings. Texts are tokenised a chunk at a time on a side thread (the fast
        tokenizer leaves the GIL while it works) while the model runs the chunk before, and
        each chunk goes through the model in batches of similar length."""
        total = len(texts)
        out = np.empty((total, self.dim), dtype=np.float32)
        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        step = max(self.config.tokenize_chunk, self.config.batch_size)
        starts = list(range(0, total, step))

        def tokenize(start: int) -> list[list[int]]:
            return tokenize_left(
                tokenizer=self.tokenizer,
                texts=texts[start : start + step],
                max_length=self.config.max_length,
            )

        done = 0
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokenize") as pool,
            torch_threads(self.config.threads),
            torch.inference_mode(),
        ):
            pending = pool.submit(tokenize, starts[0]) if starts else None
            for position, start in enumerate(starts):
                assert pending is not None
                ids = pending.result()
                if position + 1 < len(starts):
                    pending = pool.submit(tokenize, starts[position + 1])
                for batch in length_sorted_batches(
                    [len(row) for row in ids], batch_size=self.config.batch_size
                ):
                    raise_if_cancelled(cancel)
                    input_ids, mask = pad_batch(
                        [ids[i] for i in batch], pad_id=pad_id, device=self.device
                    )
                    out[start + batch] = self._pooled(input_ids, mask).cpu().numpy()
                    done += len(batch)
                    if progress is not None:
                        progress(done, total)
        return out

    def forward_only(self, ids: Sequence[Sequence[int]]) -> float:
        """Seconds the model alone takes over token ids already made, in the batches encode
        would run: the bare forward pass that end-to-end throughput is measured against."""
        import time

        pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        batches = [
            pad_batch([ids[i] for i in batch], pad_id=pad_id, device=self.device)
            for batch in length_sorted_batches(
                [len(row) for row in ids], batch_size=self.config.batch_size
            )
        ]
        with torch_threads(self.config.threads), torch.inference_mode():
            begin = time.perf_counter()
            for input_ids, mask in batches:
                self._pooled(input_ids, mask)
            if self.device.type == "cuda":
                torch.cuda.synchronize()
            return time.perf_counter() - begin

    def _pooled(self, input_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if not self.config.layers:
            hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            return mean_pool(hidden, mask)
        states = self.model(
            input_ids=input_ids, attention_mask=mask, output_hidden_states=True
        ).hidden_states
        return torch.cat([mean_pool(states[layer], mask) for layer in self.config.layers], dim=1)
