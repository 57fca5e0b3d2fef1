"""Reply drafting helpers: network length limits, risk checks, LLM prompts and templates.

Pure code: no storage, Slack or handlers. Services call these to prepare and check drafts.
"""

from bot.replies.limits import NETWORK_LIMITS, fits, limit_for, measure, trim_to_limit
from bot.replies.prompt import PromptMention, PromptTurn, build_messages, clean_suggestion
from bot.replies.risk import RiskFlag, RiskReport, check_draft
from bot.replies.templates import CustomTemplate, choose_template, render_template

__all__ = [
    "NETWORK_LIMITS",
    "CustomTemplate",
    "PromptMention",
    "PromptTurn",
    "RiskFlag",
    "RiskReport",
    "build_messages",
    "check_draft",
    "choose_template",
    "clean_suggestion",
    "fits",
    "limit_for",
    "measure",
    "render_template",
    "trim_to_limit",
]
