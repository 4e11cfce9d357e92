"""TRL's RewardTrainer trains on an export as it is: two optimisation steps of a tiny reward
model, offline on CPU, with the margin column in the loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest
import torch

from tests.exports.helpers import add_scores, make_pairs
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write

pytestmark = pytest.mark.slow

CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)


def _tiny_reward_model() -> tuple[Any, Any]:
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from workers.rm.config import default_encoder_path

    tokenizer = AutoTokenizer.from_pretrained(str(default_encoder_path()))
    tokenizer.eos_token = tokenizer.sep_token  # BERT has none; TRL appends one to texts
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
        pad_token_id=tokenizer.pad_token_id,
    )
    return BertForSequenceClassification(config), tokenizer


@pytest.mark.parametrize("style", ["standard", "conversational"])
def test_reward_trainer_takes_two_steps_on_an_export(
    project: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, style: str
) -> None:
    from trl import RewardConfig, RewardTrainer

    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("WANDB_DISABLED", "true")
    made = make_pairs(project, 16)
    add_scores(project, made)
    snapshot = export_write(
        snapshot=export_create(
            project=project,
            file_format="parquet",
            spec=ExportSpec(style=style, with_margin=True, split="train"),
            enqueue=False,
        )
    )
    data_file = next(f for f in snapshot.files if f["name"].endswith(".parquet"))
    train = datasets.load_dataset(
        "parquet", data_files={"train": str(snapshot.path / data_file["name"])}
    )["train"]
    model, tokenizer = _tiny_reward_model()
    before = [p.detach().clone() for p in model.parameters()]
    args = RewardConfig(
        output_dir=str(tmp_path / "out"),
        max_steps=2,
        per_device_train_batch_size=2,
        learning_rate=1e-2,
        max_length=256,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = RewardTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
    result = trainer.train()
    assert result.global_step == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    losses = [log["loss"] for log in trainer.state.log_history if "loss" in log]
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))
