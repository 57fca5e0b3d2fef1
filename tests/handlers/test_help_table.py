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
        '[#channel] [threshold:N ...] '
        '| list | pause NAME | resume NAME | remove NAME | threshold NAME N | '
        'channel NAME #channel | '
        'kind NAME brand|competitor | '
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
    'assign': 'assign ID [ID ...] @user',
    'draft': 'draft ID [text]',
    'approve': 'approve ID vN [confirm, for a draft with warnings] [reason, for a high-risk draft]',
    'reject': 'reject ID reason',
    'withdraw': 'withdraw ID [reason]',
    'replied': 'replied ID [ID ...] [reply URL, with one ID]',
    'ignore': 'ignore ID[,ID ...] [reason]',
    'reopen': 'reopen ID [ID ...]',
    'role': 'role add @user admin|approver|agent|viewer | role remove @user | role list',
    'lang': 'lang en|fr',
    'forget': 'forget [undo] @handle',
    'digest': 'digest now | set HH:MM [ZONE] | off | empty skip|post | status',
    'stats': 'stats [7d|30d|90d] | stats sov [1d|7d|30d|90d] [GROUP]',
    'export': 'export [7d|30d] [watch:NAME] [words] | export sov [7d|30d|90d] [GROUP]',
    'settings': 'settings [NAME VALUE]',
    'sla': (
        'sla | sla set WATCH urgent=MIN high=MIN normal=MIN | sla hours HH:MM-HH:MM DAYS '
        '[ZONE] | sla hours off'
    ),
    'triage': 'triage | triage learn [dry-run] | triage reset | triage off | triage on',
    'voice': 'voice | voice TEXT | voice off',
    'template': 'template add NAME INTENT LANG TEXT | template list | template remove NAME',
}
"""Every subcommand's usage as help showed it before the table (name order of modules)."""

EXAMPLES = {
    'account': (
        'account add x @acmecare',
        'account add mastodon @acme@mastodon.social',
        'account list',
        'account remove x @acmecare',
    ),
    'opp': (
        'opp list',
        'opp assign 12 @ana',
        'opp draft 12 Hi! Happy to help you switch.',
        'opp contacted 12',
    ),
    'help': (
        'help',
        'help watch',
    ),
    'influencers': (
        'influencers',
        'influencers 90d',
        'influencers track @alice mastodon',
    ),
    'report': (
        'report month',
        'report month 2026-11',
        'report schedule monthly',
        'report schedule off',
    ),
    'watch': (
        'watch add acme #social threshold:40 acme OR "acme app" -jobs lang:fr',
        'watch add acme-fr acme lang:fr threshold:30',
        'watch add rival-a #veille kind:competitor group:acme-vs rivala',
        'watch group create acme-vs acme rival-a conquest:on',
        'watch list',
        'watch pause acme',
        'watch route acme topic:outage #product-bugs',
    ),
    'source': (
        'source add rss acme https://news.example.com/feed.xml',
        'source add mastodon acme base_url=https://mastodon.social query=acme',
        'source list',
        'source test 3',
    ),
    'notify': (
        'notify off',
        'notify on',
        'notify status',
    ),
    'mentions': (
        'mentions status:new since:24h',
        'mentions sentiment:negative source:mastodon',
        'mentions assignee:me',
        'mentions topic:billing',
        'mentions refund',
    ),
    'show': (
        'show 42',
    ),
    'assign': (
        'assign 42 @ana',
        'assign 41 42 @ana',
    ),
    'draft': (
        'draft 42',
        "draft 42 Thanks for the heads-up, we're on it!",
    ),
    'approve': (
        'approve 42',
        'approve 42 v3',
        'approve 42 v3 confirm',
        'approve 42 v3 legal checked the wording',
    ),
    'reject': (
        'reject 42 too formal, use the first name',
    ),
    'withdraw': (
        'withdraw 42',
        'withdraw 42 typo in the order number',
    ),
    'replied': (
        'replied 42',
        'replied 42 https://mastodon.social/@acme/1',
        'replied 41 42',
    ),
    'ignore': (
        'ignore 42',
        'ignore 42 spam',
        'ignore 41 42 43',
        'ignore 41,42,43 duplicates',
    ),
    'reopen': (
        'reopen 42',
        'reopen 41 42',
    ),
    'role': (
        'role add @lea approver',
        'role list',
    ),
    'lang': (
        'lang fr',
    ),
    'forget': (
        'forget @ana@mastodon.social',
        'forget undo @ana@mastodon.social',
    ),
    'digest': (
        'digest now',
        'digest set 08:30 Europe/Paris',
        'digest off',
        'digest empty skip',
    ),
    'stats': (
        'stats',
        'stats 30d',
        'stats sov',
        'stats sov 30d acme-vs',
    ),
    'export': (
        'export',
        'export 30d',
        'export 7d watch:acme',
        'export 30d "product recall" -refund',
        'export sov 30d',
    ),
    'settings': (
        'settings',
        'settings default_role viewer',
        'settings four_eyes on',
        'settings timezone Europe/Paris',
        'settings language fr',
    ),
    'sla': (
        'sla',
        'sla set acme urgent=30 high=120',
        'sla hours 09:00-18:00 mon-fri Europe/Paris',
    ),
    'triage': (
        'triage',
        'triage learn dry-run',
        'triage reset',
    ),
    'voice': (
        'voice Warm and brief. Use first names. Never promise refunds.',
    ),
    'template': (
        "template add late-order complaint en Sorry {author}, we're checking your order now.",
        'template list',
    ),
}
"""Every subcommand's examples as help showed them."""


def test_usage_lines_are_unchanged() -> None:
    assert {sub.name: sub.usage for sub in REGISTRY.all()} == USAGES


def test_help_order_is_unchanged() -> None:
    assert [sub.name for sub in REGISTRY.all()] == list(USAGES)


def test_examples_are_unchanged() -> None:
    assert {sub.name: sub.examples for sub in REGISTRY.all()} == EXAMPLES
