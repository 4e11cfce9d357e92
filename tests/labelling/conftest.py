from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Progress totals and the lease sweep's timer are cached per project: start each test
    without another test's."""
    cache.clear()
    yield
    cache.clear()
