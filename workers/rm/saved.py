"""Saved reward models: one folder per model, weights in safetensors, read back to score pairs.

<folder>/preflab_model.json     kind, encoder or base model, and how the model was trained
<folder>/head.safetensors       kind "head": the reward head's weights (the encoder is
                                named, not copied: it is frozen and already on disk)
<folder>/model.safetensors ...  kind "finetune": a Hugging Face sequence-classification
                                checkpoint (config, tokenizer), which `--reward-model` and
                                `--encoder` of a scoring run load as they are; kind
                                "step_finetune" the same, its one output the logit of
                                P(step correct) (step_finetune.score_step_model reads it)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.torch import load_file, save_file

from workers.rm.cache import EmbeddingLookup
from workers.rm.config import EncoderConfig, default_encoder_path
from workers.rm.encoder import model_fingerprint
from workers.rm.text import Prompt

MANIFEST = "preflab_model.json"
HEAD_WEIGHTS = "head.safetensors"


def save_model(*, folder: Path, result: Any, manifest: dict[str, Any]) -> list[str]:
    """Write a TrainResult's model into `folder` (which must exist); the files' names."""
    kind = manifest["kind"]
    if kind == "head":
        save_file(result.state, str(folder / HEAD_WEIGHTS))
    elif kind in ("finetune", "step_finetune"):
        result.model.save_pretrained(str(folder), safe_serialization=True)
        result.tokenizer.save_pretrained(str(folder))
    else:
        raise ValueError(f"unknown model kind {kind!r}")
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a PrefLab model folder; None for any other folder."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return data if isinstance(data, dict) else None


def is_head_model(folder: str | Path) -> bool:
    manifest = read_manifest(Path(folder))
    return manifest is not None and manifest.get("kind") == "head"


def _encoder_model(manifest: dict[str, Any]) -> str:
    """The head's encoder folder; the bundled MiniLM when the stored path moved but matches."""
    model = str(manifest["encoder"]["model"])
    if Path(model).is_dir() or not Path(model).is_absolute():
        return model
    default = default_encoder_path()
    if manifest.get("encoder_fingerprint") == model_fingerprint(str(default)):
        return str(default)
    raise ValueError(f"the encoder {model} of this reward head is gone")


def score_head_model(
    *,
    folder: str | Path,
    prompts: Sequence[Prompt],
    chosen: Sequence[str],
    rejected: Sequence[str],
    cache: EmbeddingLookup | None = None,
) -> np.ndarray:
    """(N,) margins r(chosen) - r(rejected) of a saved reward head, through the cache."""
    from workers.rm.encoder import Encoder
    from workers.rm.pipeline import embed_pairs
    from workers.rm.training import head_margins

    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None or manifest.get("kind") != "head":
        raise ValueError(f"{folder} is not a PrefLab reward head")
    x_chosen, x_rejected = embed_pairs(
        prompts=prompts,
        chosen=chosen,
        rejected=rejected,
        # the encoder the head was trained on, as it was set then
        encoder=Encoder(
            EncoderConfig(
                model=_encoder_model(manifest), max_length=int(manifest["encoder"]["max_length"])
            )
        ),
        cache=cache,
        features=manifest["features"],
    )
    return head_margins(
        state=load_file(str(folder / HEAD_WEIGHTS)),
        hidden=int(manifest["hidden"]),
        x_chosen=x_chosen,
        x_rejected=x_rejected,
    )
