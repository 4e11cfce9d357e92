"""A scoring run with no job (one a bench or a command scores in its own process) takes its
own shards and finishes; shards stopped from outside end the wait with an error, not a loop."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest
import redis
from django.conf import settings as django_settings

from webapp.scoring.models import EncodeShard, ScoringRun
from webapp.scoring.shards import shards_encode
from webapp.scoring.store import stored_embeddings

pytestmark = pytest.mark.timeout(120)


class _Lengths:
    """A source whose vector of a text is its length: what is read back shows what was encoded."""

    def __init__(self) -> None:
        self.asked = 0

    @property
    def cache_key(self) -> dict[str, Any]:
        return {"encoder": "lengths", "dim": 2}

    def encode(self, texts: Any, **_: Any) -> np.ndarray:
        self.asked += len(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


@pytest.fixture
def queue() -> Any:
    """A queue of this test's own: the shard tasks sent to it are nobody's, and go after."""
    name = f"preflab-test-{uuid.uuid4().hex[:8]}"
    yield name
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(name)


def _encode(run: ScoringRun, source: _Lengths, texts: list[str], queue: str) -> dict[str, int]:
    return shards_encode(
        run=run,
        kind=EncodeShard.Kind.ENCODE,
        source=source,
        model={},
        texts=texts,
        queue=queue,
        progress=lambda *a: None,
        cancelled=lambda: False,
    )


def test_a_jobless_run_takes_every_shard_and_finishes(
    db: Any, project: Any, settings: Any, queue: str
) -> None:
    settings.SCORING_SHARD_TEXTS = 3
    run = ScoringRun.objects.create(project=project, config={})
    assert run.job_id is None
    source = _Lengths()
    texts = ["a" * n for n in range(1, 9)]
    figures = _encode(run, source, texts, queue)
    assert figures == {"texts": 8, "cached": 0, "shards": 3}
    assert source.asked == 8
    assert set(EncodeShard.objects.filter(run=run).values_list("status", flat=True)) == {"done"}
    back = stored_embeddings().get_or_compute(texts, source)
    assert back[:, 0].tolist() == list(range(1, 9)) and source.asked == 8


def test_shards_cancelled_from_outside_end_the_wait_with_an_error(
    db: Any, project: Any, settings: Any, queue: str
) -> None:
    settings.SCORING_SHARD_TEXTS = 3
    run = ScoringRun.objects.create(project=project, config={})
    source = _Lengths()

    def encode_then_cancel_the_rest(texts: Any, **kwargs: Any) -> np.ndarray:
        # while the coordinator encodes its first shard, the others are cancelled
        EncodeShard.objects.filter(run=run, status="queued").update(status="cancelled")
        return _Lengths.encode(source, texts, **kwargs)

    source.encode = encode_then_cancel_the_rest  # type: ignore[method-assign]
    with pytest.raises(ValueError, match="stopped before they were done"):
        _encode(run, source, ["b" * n for n in range(1, 9)], queue)
