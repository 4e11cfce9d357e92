"""ASGI entry point: Django for HTTP, Channels for WebSockets (live job progress)."""

from __future__ import annotations

import os
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.http import FileResponse, HttpRequest, HttpResponseBase

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
django.setup(set_prefix=False)


class SyncChainASGIHandler(ASGIHandler):
    """Django's ASGI handler, but the middleware and the view of a request run as plain sync
    code, in one hop from the event loop to a thread.

    Django's own handler runs the middleware chain in async mode: WhiteNoise (sync only) and
    every sync view are crossed into a thread, and each of the other middlewares crosses for
    its request and again for its response, about a dozen hops a request (a third of a
    labelling request's CPU, measured). PrefLab's HTTP views are all sync (an async one would
    still work, run in the thread through async_to_sync); WebSockets go to Channels below.
    """

    def __init__(self) -> None:
        BaseHandler.__init__(self)  # not ASGIHandler's, which builds the chain in async mode
        self.load_middleware(is_async=False)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}")
        # Without Django's ThreadSensitiveContext, which starts a thread for every request: the
        # sync code of all requests runs on the process's one sync thread, as the GIL has it
        # run anyway. Several web processes (``serve --web-workers``) keep the cores busy.
        await self.handle(scope, receive, send)

    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase:
        response: Any = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size  # as Django's: the server chunks the body
        return response


django_asgi = SyncChainASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from webapp.celery import ensure_broker  # noqa: E402
from webapp.routing import websocket_urlpatterns  # noqa: E402

ensure_broker()

application = ProtocolTypeRouter(
    {
        "http": django_asgi,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
