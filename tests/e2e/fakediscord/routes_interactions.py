"""Interaction callbacks and the interaction webhook (follow-ups, @original)."""

from __future__ import annotations

from typing import Any

from . import payloads
from .backend import Backend
from .rest import NO_CONTENT, ApiRequest, RestServer

_WEBHOOK = "/webhooks/{webhook_id}/{webhook_token}"


def register(server: RestServer, backend: Backend) -> None:
    routes = InteractionRoutes(backend)
    r = server.route
    r("POST", "/interactions/{interaction_id}/{interaction_token}/callback", routes.callback)
    r("POST", _WEBHOOK, routes.followup)
    r("GET", _WEBHOOK + "/messages/{message_id}", routes.get_message)
    r("PATCH", _WEBHOOK + "/messages/{message_id}", routes.edit_message)
    r("DELETE", _WEBHOOK + "/messages/{message_id}", routes.delete_message)


class InteractionRoutes:
    def __init__(self, backend: Backend) -> None:
        self.b = backend
        self.manager = backend.interactions

    async def callback(self, api: ApiRequest) -> Any:
        result = self.manager.handle_callback(
            api.snowflake("interaction_id"), api.param("interaction_token"), api.body, api.files
        )
        if api.query.get("with_response") in ("1", "true", "True"):
            return result
        return NO_CONTENT

    async def followup(self, api: ApiRequest) -> Any:
        message = self.manager.followup(api.snowflake("webhook_id"), api.param("webhook_token"), api.body, api.files)
        if api.query.get("wait") in ("1", "true", "True"):
            return payloads.message(message, self.b.world)
        return NO_CONTENT

    async def get_message(self, api: ApiRequest) -> Any:
        _, message = self.manager.webhook_message(
            api.snowflake("webhook_id"), api.param("webhook_token"), api.param("message_id")
        )
        return payloads.message(message, self.b.world)

    async def edit_message(self, api: ApiRequest) -> Any:
        message = self.manager.edit_webhook_message(
            api.snowflake("webhook_id"), api.param("webhook_token"), api.param("message_id"), api.body, api.files
        )
        return payloads.message(message, self.b.world)

    async def delete_message(self, api: ApiRequest) -> Any:
        self.manager.delete_webhook_message(
            api.snowflake("webhook_id"), api.param("webhook_token"), api.param("message_id")
        )
        return NO_CONTENT
