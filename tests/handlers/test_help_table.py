"""Help comes from the subcommand table: each usage line, generated from the verbs' argument
specs where a subcommand has verbs, reads exactly as it did when it was written by hand."""

from __future__ import annotations

from handlers.commands.registry import REGISTRY

USAGES = {
    'account': 'account add NETWORK HANDLE | list | remove NETWORK HANDLE',
    'opp': 'opp list | assign ID [@user] | draft ID TEXT | contacted ID | dismiss ID | reopen ID',
    'help': 'help [COMMAND]',
    'influencers': 'influencers [7d|30d|90d] | track @handle NETWORK | untrack @handle NETWORK',
    'report': 'report month [YYYY-MM] | schedule [monthly|off]',
    'watch': (
        'watch add NAME [#channel] [threshold:N] [kind:brand|competitor] [group:G] QUERY '
        '| list | pause NAME | resume NAME | remove NAME | kind NAME brand|competitor | '
        'group create|add|drop|conquest|delete|list ... | route NAME topic:T #channel | '
        'unroute NAME topic:T | routes [NAME]'
    ),
    'source': (
        'source add KIND WATCH [URL] [key=value ...] | list [WATCH] | test ID | pause ID '
        '| resume ID | remove ID'
    ),
    'notify': 'notify on|off|status',
    'mentions': (
        'mentions [status:S] [sentiment:S] [source:NETWORK] [watch:W] [assignee:@user|me]'
        ' [topic:T] [since:24h] [words]'
    ),
    'show': 'show ID',
    'assign': 'assign ID @user',
    'draft': 'draft ID [text]',
    'approve': 'approve ID vN [confirm, for a draft with warnings] [reason, for a high-risk draft]',
    'reject': 'reject ID reason',
    'replied': 'replied ID [reply URL]',
    'ignore': 'ignore ID [reason]',
    'reopen': 'reopen ID',
    'role': 'role add @user admin|approver|agent|viewer | role remove @user | role list',
    'lang': 'lang en|fr',
    'forget': 'forget @handle',
    'digest': 'digest now | set HH:MM [ZONE] | off | empty skip|post | status',
    'stats': 'stats [7d|30d|90d] | stats sov [1d|7d|30d|90d] [GROUP]',
    'export': 'export [7d|30d] [watch:NAME] [words] | export sov [7d|30d|90d] [GROUP]',
    'settings': 'settings [NAME VALUE]',
    'sla': (
        'sla | sla set WATCH urgent=MIN high=MIN normal=MIN | sla hours HH:MM-HH:MM DAYS '
        'ZONE | sla hours off'
    ),
    'triage': 'triage | triage learn [dry-run] | triage reset | triage off | triage on',
    'voice': 'voice | voice TEXT | voice off',
    'template': 'template add NAME INTENT LANG TEXT | template list | template remove NAME',
}
"""Every subcommand's usage as help showed it before the table (name order of modules)."""


def test_usage_lines_are_unchanged() -> None:
    assert {sub.name: sub.usage for sub in REGISTRY.all()} == USAGES


def test_help_order_is_unchanged() -> None:
    assert [sub.name for sub in REGISTRY.all()] == list(USAGES)
