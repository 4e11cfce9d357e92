"""Import throughput: 1M TRL pairs through ``import_run``, against a bare PostgreSQL COPY.

Target, on 2 cores: at least 20,000 pairs/s, and at least 0.3 of the raw COPY's rows/s.

The data is the real HH-RLHF sample bundled for the demo (1000 records), resampled with a
fixed seed into a TRL-standard JSON Lines file (``{"prompt", "chosen", "rejected"}``: the
prompt is the transcript before the last "\\n\\nAssistant:", the responses what follows it).
Texts keep the real length distribution. Every prompt serves two adjacent pairs, as in
datasets with several comparisons per prompt, so the importer's prompt dedup does real work;
a short suffix (" [#123456]") keeps the prompts and the responses of different pairs distinct,
so nothing collapses the way 1000 records resampled as-is would.

The baseline is the least any importer of this file has to do: read it line by line,
``json.loads`` each line and COPY (prompt, chosen, rejected) into a table with no index or
constraint, in one transaction. ``import_run`` does that and more: it validates every field,
hashes prompts, responses and pairs, dedups, writes three indexed tables (0.5M prompts, 2M
responses, 1M pairs) and commits every chunk. ``ratio_to_raw_copy`` is the price of all that.

Figures: import.pairs_per_s, import.seconds, import.pairs, import.peak_rss_mb (resident memory
sampled during the import), import.raw_copy_rows_per_s, import.raw_copy_seconds,
import.ratio_to_raw_copy. BENCH_IMPORT_PAIRS=100000 makes a quick run.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from tqdm import tqdm

from bench.db import bench_database

PAIRS = int(os.environ.get("BENCH_IMPORT_PAIRS", 1_000_000))
PAIRS_PER_PROMPT = 2
SEED = 20240601
SOURCE = Path(__file__).resolve().parent.parent / "webapp" / "ops" / "demo"
SOURCE_FILE = SOURCE / "hh-rlhf-test-sample.jsonl.gz"
ASSISTANT = "\n\nAssistant:"

Figures = Callable[[str, float, str], None]


def bar(total: int, desc: str, unit: str = "it") -> tqdm:
    # Off a terminal (make bench | tee, CI logs) a line every 10 s, not a redrawn bar.
    tty = sys.stderr.isatty()
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=True,
        file=sys.stderr,
        mininterval=0.5 if tty else 10,
        dynamic_ncols=tty,
    )


def source_triples() -> list[tuple[str, str, str]]:
    """(prompt, chosen, rejected) from the bundled HH-RLHF transcripts that split cleanly."""
    triples = []
    with gzip.open(SOURCE_FILE, "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            chosen, rejected = record["chosen"], record["rejected"]
            cut = chosen.rfind(ASSISTANT)
            prompt = chosen[:cut]
            if cut < 0 or rejected.rfind(ASSISTANT) != cut or not rejected.startswith(prompt):
                continue  # two of the 1000 have different conversations before the last turn
            start = cut + len(ASSISTANT)
            triples.append(
                (prompt, chosen[start:].removeprefix(" "), rejected[start:].removeprefix(" "))
            )
    return triples


def generate(path: Path, pairs: int) -> int:
    """Write ``pairs`` distinct TRL records to ``path``; returns the file's size in bytes."""
    triples = source_triples()
    rng = random.Random(SEED)
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    with path.open("w", encoding="utf-8") as out, bar(pairs, "generate", "pair") as progress:
        for first in range(0, pairs, PAIRS_PER_PROMPT):
            prompt, chosen, rejected = triples[rng.randrange(len(triples))]
            shared_prompt = f"{prompt} [#{first // PAIRS_PER_PROMPT:06d}]"
            lines = []
            for n in range(first, min(first + PAIRS_PER_PROMPT, pairs)):
                suffix = f" [#{n:07d}]"
                record = {
                    "prompt": shared_prompt,
                    "chosen": chosen + suffix,
                    "rejected": rejected + suffix,
                }
                lines.append(dumps(record) + "\n")
            out.write("".join(lines))
            progress.update(len(lines))
    return path.stat().st_size


@contextmanager
def peak_rss() -> Iterator[list[int]]:
    """Samples this process's resident memory every 50 ms; yields [peak bytes]."""
    process, peak, done = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], process.memory_info().rss)
            if done.wait(0.05):
                return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def raw_copy(path: Path, pairs: int) -> float:
    """Seconds to read, parse and COPY the file into a bare table (see the module doc)."""
    from django.db import DatabaseError, connection, transaction

    loads = json.loads
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_raw (prompt text, chosen text, rejected text)")
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor, bar(pairs, "raw COPY", "row") as pb:
        raw = cursor.cursor
        with (
            raw.copy("COPY bench_raw (prompt, chosen, rejected) FROM STDIN") as copy,
            path.open("rb") as fh,
        ):
            for n, line in enumerate(fh, 1):
                record = loads(line)
                copy.write_row((record["prompt"], record["chosen"], record["rejected"]))
                if n % 10_000 == 0:
                    pb.update(10_000)
        pb.update(pairs - pb.n)
    seconds = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_raw")
        (rows,) = cursor.fetchone()
        if rows != pairs:
            raise RuntimeError(f"raw COPY stored {rows} rows, expected {pairs}")
        cursor.execute("DROP TABLE bench_raw")
        # So the import does not pay for the baseline's dirty pages; CHECKPOINT needs a
        # superuser (or pg_checkpoint): without one, measure as things are.
        with contextlib.suppress(DatabaseError):
            cursor.execute("CHECKPOINT")
    return seconds


def timed_import(path: Path, pairs: int) -> tuple[float, int, int]:
    """(seconds, pairs created, peak RSS bytes) of import_batch_create + import_run."""
    from webapp.imports.models import ImportBatch
    from webapp.imports.services import import_batch_create, import_run
    from webapp.projects.services import project_create

    project = project_create(name="Import benchmark")
    size = path.stat().st_size
    with bar(size, "import", "B") as pb, peak_rss() as peak:

        def progress(position: int, total: int, summary: str) -> None:
            pb.update(position - pb.n)
            pb.set_postfix_str(summary, refresh=False)

        start = time.perf_counter()
        batch = import_batch_create(project=project, path=path, file_name=path.name)
        batch = import_run(batch=batch, progress=progress)
        seconds = time.perf_counter() - start
    if batch.status != ImportBatch.Status.DONE or batch.pairs_created != pairs:
        raise RuntimeError(
            f"import ended {batch.status} with {batch.pairs_created} of {pairs} pairs "
            f"({batch.records_rejected} rejected; {batch.error or 'no error'})"
        )
    return seconds, batch.pairs_created, peak[0]


def run(figures: Figures) -> None:
    with tempfile.TemporaryDirectory(prefix="preflab-bench-import-") as tmp:
        path = Path(tmp) / f"hh-resampled-{PAIRS}.jsonl"
        size = generate(path, PAIRS)
        print(f"import: {PAIRS} pairs, {size / 1e6:.0f} MB in {path}", file=sys.stderr)
        with bench_database():
            copy_seconds = raw_copy(path, PAIRS)
            copy_rate = PAIRS / copy_seconds
            figures("raw_copy_rows_per_s", copy_rate, "rows/s")
            figures("raw_copy_seconds", copy_seconds, "s")
            seconds, created, peak = timed_import(path, PAIRS)
    rate = PAIRS / seconds
    figures("pairs_per_s", rate, "pairs/s")
    figures("seconds", seconds, "s")
    figures("pairs", created, "pairs")
    figures("peak_rss_mb", peak / 2**20, "MiB")
    figures("ratio_to_raw_copy", rate / copy_rate, "")
