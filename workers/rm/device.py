"""Device, dtype and length-sorted batching shared by everything that runs a transformer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext

import numpy as np
import torch

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_dtype(name: str, *, device: torch.device) -> torch.dtype:
    """bf16 on cuda (same range as fp32, twice the speed); fp32 elsewhere, where bf16 is slow."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if name not in _DTYPES:
        raise ValueError(f"unknown dtype {name!r}; expected auto or one of {sorted(_DTYPES)}")
    return _DTYPES[name]


def resolve_autocast(name: str, *, device: torch.device) -> torch.dtype | None:
    """The dtype to autocast to for `name` (see resolve_dtype); None for fp32, which needs none.
    Weights that train stay fp32: a lower dtype is used through autocast only."""
    dtype = resolve_dtype(name, device=device)
    return dtype if dtype != torch.float32 else None


def autocast(device: torch.device, dtype: torch.dtype | None) -> AbstractContextManager[object]:
    """torch.autocast to `dtype` on `device`, or nothing when dtype is None."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def length_sorted_batches(lengths: Sequence[int], *, batch_size: int) -> Iterator[np.ndarray]:
    """Index batches of similar length, longest first.

    Sorting keeps padding (wasted compute) near zero; longest first makes an out-of-memory
    error show on the first batch rather than at the end of a long job.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def pad_batch(
    ids: Sequence[Sequence[int]], *, pad_id: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded input_ids and attention_mask for one batch of token id lists."""
    width = max(len(row) for row in ids)
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for i, row in enumerate(ids):
        input_ids[i, : len(row)] = row
        mask[i, : len(row)] = 1
    return (
        torch.from_numpy(input_ids).to(device, non_blocking=True),
        torch.from_numpy(mask).to(device, non_blocking=True),
    )


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run with `count` intra-op threads (0: leave torch's setting), then restore it.

    torch's thread count is per process: this suits a worker that runs one job at a time.
    """
    if count <= 0:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
