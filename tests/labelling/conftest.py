from collections.abc import Iterator

import pytest
from django.core.cache import cache

# The browser fixtures (Debian's Chromium through Playwright) for this folder's browser tests.
from tests.browser.conftest import browser, page

__all__ = ["browser", "fresh_cache", "page"]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Progress totals and the lease sweep's timer are cached per project: start each test
    without another test's."""
    cache.clear()
    yield
    cache.clear()
