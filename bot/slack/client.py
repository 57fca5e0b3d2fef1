"""The Slack Web API client, built once from settings with slack_sdk's retry handlers."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings
from bot.messages.delivery import SLACK_CALL_TIMEOUT_SECONDS


def build_web_client(settings: Settings, *, token: str | None = None,
                     for_outbox: bool = False) -> WebClient:
    """A WebClient pointed at ``SLACK_API_URL`` with slack_sdk's retry handlers.

    The outbox's client retries nothing: after a 5xx or a dropped connection Slack may
    have posted the message, and a 429's Retry-After could outlast the outbox's lease; the
    outbox retries all of them itself (after looking the message up by its metadata).
    """
    bot_token = token or (
        settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    )
    handlers: list[RetryHandler] = [] if for_outbox else [
        RateLimitErrorRetryHandler(max_retry_count=2),
        ConnectionErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2)]
    return WebClient(token=bot_token, base_url=settings.slack_api_url,
                     timeout=SLACK_CALL_TIMEOUT_SECONDS,
                     retry_handlers=handlers)
