"""The HTTP clients sources fetch with: guarded for sources added through Slack."""

from __future__ import annotations

from bot.config import Settings
from bot.net.http import HttpClient
from bot.services.polling import HttpFactory


def http_factory(settings: Settings) -> HttpFactory:
    """A factory giving trusted sources a plain client and the others the SSRF guard."""
    allow = tuple(settings.allowed_source_hosts)

    def build(trusted: bool) -> HttpClient:
        return HttpClient(untrusted=not trusted, allow_hosts=allow)

    return build
