"""The transactional outbox: what must reach Slack is written with the change that needs it,
then delivered here, in order per channel, at most about one message per second per channel.

A channel's order is by rank (``send_rank``, stored on the row), then by id: first what
someone waits for (a card's update after a click, any update of a posted message, a note
in a posted card's thread), then "bad buzz" alerts (spike alerts), then new cards by their
mention's priority, then the rest (digests, reports, files). During a surge, hundreds of
cards queue at a message a second: the spike alert and the feedback of a click must not
wait behind them. A row that needs another row's ts never goes before it: a note or an
update of a card still queued takes that card's rank and follows it; one queued before its
card waits for it (``NotReady``, below). Two updates of a message keep their order (same
rank, by id).

The pace is kept in the database (``outbox_pace``: per workspace and channel, the time the
next message may go; ``prune_pace`` deletes the rows of channels quiet for minutes), because
every process sends: each worker of ``vigie web`` (cards
update right after a click) and ``vigie worker``. A sender takes the channel's slot in the
transaction that claims the row, by compare-and-set (``storage.claims.take_slot``: move
``next_at`` forward only if it is not in the future), so of two senders only one wins it;
on PostgreSQL the loser waits for the winner's row lock and then finds the slot taken, on
SQLite write transactions are serial. When Slack has answered, the slot is pushed to the
answer's time plus the interval. The loser leaves the channel for its next flush (or sleeps,
with ``wait``), and remembers in memory when the channel frees, so the one-second tick
reads no row of it before then: the single-process path costs one UPDATE per message sent.
Making one process "the sender" (a lease with expiry) was the other way: it would hold a
web-only deployment's cards back while a lease expires, and delay every card update after
a click until the sender's next tick. The pace uses the sender's wall clock, like the
leases: the processes' clocks are taken to agree (NTP) to well under the interval.

A delivery attempt is recorded (committed) before Slack is called, and every message carries
metadata naming its outbox row; a row retried after a crash is first looked up in the channel,
so a crash between "posted" and "recorded" never posts twice. The look-up reads the channel
back to the row's creation (``LOOKUP_CLOCK_MARGIN``), page after page up to a bound, not only
its latest messages: a busy channel may have moved on hundreds of messages meanwhile. A file
carries no metadata: the id Slack gives it is recorded before its upload is completed
(``UPLOADED_FILE_ID``), and a retry looks for that file in the channel instead; Slack
shares a file asynchronously, after answering, so a retry that does not find it yet waits
for it a while (``SHARE_WAIT``) before uploading it again. Slack may
also act on an attempt it held past the client's timeout after the retry's look-up found
nothing (chat.postMessage takes no idempotency key): such a retry reads the channel again
once it has posted, keeps the first copy and deletes the others (``_after_uncertain_post``),
and ``RECHECK_DELAY`` later reads it once more (``KIND_RECHECK``): a copy Slack posted after
that second read is deleted too, and nothing that is not a copy of that row ever is.
A sender holds the row it claimed for ``SEND_LEASE`` (its hold: the attempts and lease end
its claim set, ``_Hold``). Each write to Slack for the row (the message posted or updated,
each step of an upload) starts only after a compare-and-set finds the hold still its own,
and only if it ends, at the client's timeout, within ``SEND_BUDGET`` of the claim: a
sender that does not stall never writes for a row another sender has taken over. A sender
that stalls (a frozen machine) may still write once, past its hold: everything it records
(the file's id, the result, a failure) is written only while the hold is its own, so it
never overwrites what the sender that took the row over recorded, and a message or file it
posted all the same is deleted (``_delete_late_copy``): the row
keeps the one message or file it recorded, which its updates and thread notes go to.
A row whose last attempt Slack refused with a 429 skips that look-up (``NOT_POSTED``): a
rate-limited call is not posted, and the look-up (``conversations.history``, itself
rate-limited hard) would only hold the channel back. A 429 on the look-up itself leaves it
owed: it says nothing of the attempt looked for.
Every look-up spends the sender's budget of ``conversations.history`` calls (Tier 3,
``LookupBudget``): a wave of uncertain rows waits for it rather than use up the tier, and a
row whose look-up found no call left looks again later, never posts without it.

What a row that cannot go out does to the others:

- A row waiting for a retry (429, 5xx, a transient ``ok: false`` such as ``internal_error``)
  holds back every row of its channel, those ranked before it too: Slack's Retry-After is
  kept whatever waits.
- A row that failed for good never holds anything back. A card whose retries ran out (hours
  of Slack failing) DMs the workspace's admins, once a day (``_card_given_up``); a card
  Slack refused for good for a reason of its own (``msg_too_long``, ``invalid_blocks``...)
  DMs them Slack's reason, once a day per reason (``_card_refused``).
- A thread note or card update waits for its mention's card (``NotReady``) without holding
  its channel: only rows of the same mention depend on the card, and they wait too. When
  no card is on its way any more (Slack refused it for good), they fail at once with
  ``CARD_LOST`` instead of waiting forever. The next action on the mention queues the card
  again with the notes that waited for it (``repost_lost_card``): the card should exist in
  Slack if at all possible, and it is rendered from the database, so it shows the latest
  state. Each refusal and each new attempt is written in the mention's history.
- A refused token (``invalid_auth``, ``token_revoked``... see ``TOKEN_ERRORS``) pauses the
  workspace's outbox: its rows stay pending, the pause (reason, time) is stored in
  ``outbox_pauses`` and logged at ERROR once, ``vigie doctor`` shows it. After a backoff
  (and at once after a restart, e.g. with a new token) the workspace's first due row is
  tried again: that delivery is the probe. When it goes through, the pause ends, the rows
  flow, and every admin of the workspace gets a DM saying from when to when delivery was
  paused (a DM is impossible while the token is dead). A workspace with no row tried then
  (a quiet one: the scheduled jobs queue nothing for it while it is paused, see below) is
  probed with ``auth.test`` instead (``_check_token``): the token accepted ends the pause
  the same way, refused it extends it, and Slack not reached leaves it for a later try.
  A workspace marked uninstalled is probed neither way (Slack said its tokens are gone:
  only an install gives one back, and ends the mark and the pause together); a pause on a
  missing scope is not probed with ``auth.test`` (it proves nothing of ``chat:write``).
  A token Slack takes but lets post nothing (``missing_scope``, the app installed again
  without ``chat:write``... see ``POSTING_REFUSED``) pauses it the same way, the scope Slack
  said is needed shown by ``vigie doctor``. Its probe must post a message: a file shared or
  a look-up proves nothing of ``chat:write``, so only a message posted or updated ends that
  pause. An install of the app (``do_reinstalled``) ends a pause on a refused token (the
  install's token was just checked) and has a pause on a missing scope probed at once.
  A workspace out of reach (uninstalled, its token refused: ``bot.services.reach``) gets
  no scheduled digest, report, SLA notice or spike alert; the digests and reports queued
  before, kept more than ``STALE_REPORTS``, are dropped at the reinstall or at the probe
  (``drop_stale_reports``), and the SLA breaches that came due meanwhile more than
  ``STALE_REPORTS`` ago are skipped, at the reinstall or when the pause ends
  (``sla.skip_stale_breaches``).
- A channel Slack refuses (archived, private without the bot... see ``CHANNEL_ERRORS``)
  fails its row for good (it stays failed, for ``vigie outbox retry`` once fixed), is
  written in the audit trail (``watch list`` flags the watches alerting there until a
  message goes through again) and DMs every admin of the workspace, once per channel a day.
  A card a topic route sent there goes to the watch's own channel instead, with a note in
  its thread saying why (``_fall_back``); when the mention's card is in that channel
  already (another watch alerts there), that card is the route's too and the note goes to
  its thread. The mention's later updates and notes go to that card, and the refused
  channel is not tried again for the mention while that card stands (new mentions still
  try it). A card that fails for good leaves its mention ``alerted``: it needed an alert,
  so it stays open work even with no card in Slack.
  A channel with threads turned off still takes the cards: a note refused in a card's
  thread fails for good like any refused message, and the channel is not reported.
- A message to a user (a DM: notices, reminders, exports) whom Slack says is a guest no
  admin gave a role is not sent (``withheld``): Vigie shows them nothing, unasked or not.
- A row this release cannot render because a newer release wrote it (a rolling deploy:
  a phrase key, an argument form or a kind it does not know, ``UnknownMessage``) is not
  this sender's to send: it stays pending without holding its channel, no attempt spent,
  and this sender looks at it again after ``NEWER_RELEASE_RECHECK``. A newer process sends
  it meanwhile; a day after it was queued (``NEWER_RELEASE_GRACE``) it fails for good.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, literal, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import UnknownMessage
from bot.messages.channel_refusal import advice_key, fix_text
from bot.messages.delivery import (
    POSTING_REFUSED,
    SLACK_CALL_TIMEOUT_SECONDS,
    DeliveryError,
    LookupBudget,
    Notifier,
    OutgoingMessage,
    UserDirectories,
)
from bot.messages.notes import Date, Note, Text, check_known
from bot.messages.stored import payload_spec, spec_payload
from bot.net.retry import exponential, retry_delay
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.permissions import guest_without_role
from bot.services.reach import DEAD_TOKEN_PAUSES
from bot.services.watch_links import (
    alerting_in,
    card_dedupe_key,
    do_record_card,
    other_cards,
    posted_card,
    route_fallbacks,
)
from bot.services.workspaces import workspace_language
from storage.claims import push_slot, take_lease, take_slot
from storage.db import transaction
from storage.models import (
    AuditEvent,
    Member,
    Mention,
    OutboxMessage,
    OutboxStatus,
    Role,
    Watch,
    Workspace,
    utcnow,
)
from storage.models_base import as_utc
from storage.models_outbox import OutboxPace, OutboxPause
from storage.models_topics import TopicRoute
from storage.models_watches import MentionWatch

log = logging.getLogger(__name__)

EVENT_TYPE_MESSAGE = "vigie_message"
EVENT_TYPE_MENTION = "vigie_mention_posted"
MAX_ATTEMPTS = 30
"""About six hours of retries with the capped backoff before a row is given up. The backoff
holds for every retry (a 5xx, ``internal_error``, a dropped connection): only the
``Retry-After`` of a 429 may make a wait shorter (``DeliveryError.asked``)."""
SEND_LEASE = timedelta(seconds=60)
"""How long a row is held by the sender that claimed it (its lease): no other sender takes
it before then. Longer than ``SEND_BUDGET``: a sender that does not stall never writes to
Slack for a row after its hold ran out."""
SEND_BUDGET = timedelta(seconds=40)
"""The longest one send of a row may take on Slack, from its claim: a call to Slack (a
message posted or updated, each step of an upload) starts only if it ends, at the client's
timeout (``SLACK_CALL_TIMEOUT``), within this, well within ``SEND_LEASE``. A send past it
(Slack slow, a chart long to draw) stops before its next call and is retried later."""
SLACK_CALL_TIMEOUT = timedelta(seconds=SLACK_CALL_TIMEOUT_SECONDS)
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 900.0
RATE_LIMIT_PATIENCE = timedelta(hours=24)
"""How long a row refused by Slack's rate limits keeps its attempts: past a day of 429s its
retries count again, so a row Slack never takes fails in the end."""
PROBE_BASE_SECONDS = 60.0
PROBE_CAP_SECONDS = 900.0
"""A paused workspace is tried again after 1, 2, 4... minutes, then every 15 minutes."""
NOT_POSTED = "not posted: "
"""Prefix of ``last_error`` when Slack's answer proved the message was not posted (a 429,
``DeliveryError.nothing_posted``): the retry posts without first looking for it in the
channel. The claim of the retry takes the prefix off, so an attempt cut short by a crash
is looked for again. A 429 on the look-up itself (``find_posted``) never sets it: it
proves nothing about the earlier attempt, which is looked for again."""
LOOKUP_CLOCK_MARGIN = timedelta(minutes=5)
"""A retry's look-up reads the channel back to its row's creation less this much: Slack
dates a message (its ts) by its own clock, which may disagree a little with this one's."""
OUTBOX_CREATED = "outbox_created"
"""Key of a message's metadata: when its outbox row was created (UTC, ISO 8601 to the
microsecond). On SQLite a row may take the id of a row deleted before it (no AUTOINCREMENT:
the highest row, gone with its mention, forgotten or pruned) whose message is still in the
channel with that ``outbox_id``: a retry's look-up took it for the row's own, kept it and
deleted the row's message. A message carrying another creation time is not the row's.
Messages posted before this key was written are matched on ``outbox_id`` and ``mention_id``:
the message of a deleted row of the same id and mention (or none for both) posted by such a
release would still pass for the row's."""
UPLOADED_FILE_ID = "slack_file_id"
"""Key of an upload's payload: the id Slack gave its file (``files.getUploadURLExternal``),
committed before the upload is completed, so that a retry can look for that file in the
channel: an upload whose completion took effect but whose answer was lost is not shared
twice."""
UPLOAD_COMPLETING_AT = "slack_file_completing_at"
"""Key of an upload's payload: when (UTC, ISO 8601) ``files.completeUploadExternal`` was
called for the file ``UPLOADED_FILE_ID`` names, recorded with it."""
SHARE_WAIT = timedelta(minutes=2)
"""How long after an uncertain completion a retry that does not find its file in the
channel waits for it before uploading it again. Slack shares a completed upload
asynchronously, after answering ("the files.completeUploadExternal API endpoint
asynchronously completes the sharing of uploaded files because there are a few
time-consuming tasks on the server side (e.g., security scans on the files)", a Slack
maintainer in slackapi/bolt-js issue 2115): a look-up a few seconds after a lost answer
may not see a share that is on its way."""
SHARE_LOOK_INTERVAL = timedelta(seconds=30)
"""How often such a retry looks again meanwhile: at most ``SHARE_WAIT`` / this many
look-ups (four) before the file is uploaded again."""
SHARE_CLOCK_SLACK = timedelta(minutes=1)
"""How far ahead of now an uncertain completion's time may be before it counts as written
by a wall clock since stepped back (``_share_may_come``): the catch-up moves the rows'
next attempts, not this time kept in the payload."""
RECHECK_DELAY = timedelta(minutes=2)
"""How long after an uncertain retry posted its message its copies are looked for once
more (``KIND_RECHECK``): Slack may act on an attempt it held past the client's timeout
(15 s) after the retry's own look-ups."""
RECHECK_ATTEMPTS = 5
"""How many times a recheck whose look-up fails is tried before it is given up (logged):
its message is posted, only a late copy may be left."""
NEWER_RELEASE = "written by a newer version of Vigie: "
NEWER_RELEASE_GRACE = timedelta(days=1)
"""How long a row this release cannot render (a key, an argument form or a kind a newer
release added) is left for a process of that release, before it fails for good."""
NEWER_RELEASE_RECHECK = timedelta(minutes=5)
"""How long a sender leaves such a row unread before looking at it again."""
CARD_LOST = "its card could not be posted: "
"""Prefix of ``last_error`` for rows failed because their mention's card was refused."""
CHANNEL_REFUSED = "outbox.channel_refused"
"""Audit action of a message Slack refused because of its channel (see CHANNEL_ERRORS)."""
THREAD_NOTE_REFUSED = "outbox.thread_note_refused"
"""Audit action on a mention: Slack refused a note in its card's thread (threads are off in
that channel), so the note was not delivered."""
ROUTE_FALLBACK = "outbox.route_fallback"
"""Audit action on a mention: Slack refused the channel its topic route sent the card to,
so the card went to the watch's own channel (``_fall_back``)."""
ROUTED_FROM = "routed_from"
"""Payload key of a card that fell back from a refused route channel: that channel."""
FELL_BACK_TO = "fell_back_to"
"""Payload key of a card Slack refused in its topic route's channel: the watches' channels
its mention's card went to instead (``_fall_back``), queued there for it or there already
(another watch alerts in that channel). While a card stands there, the refused one is not
queued again (``repost_lost_card``)."""
MAX_PACE_WAITS = 10
"""How many times a waiting flush (``wait=True``) sleeps for a channel other senders keep
taking before it leaves the row to a later flush."""
MIN_PACE_WAIT = 0.01
"""Shortest wait for a busy channel, so that clocks a hair apart do not spin."""
PACE_KEPT = timedelta(minutes=10)
"""How long a channel's pace row outlives its slot (``prune_pace``). Once ``next_at`` has
passed, the row says nothing a missing one does not (``take_slot`` inserts a new one), but
a send in flight (up to ``SEND_LEASE``) pushes its slot when Slack answers: deleted under
it, the channel's next message could go without waiting the interval."""
PACE_CLOCK_SLACK = timedelta(minutes=1)
"""A channel's slot is never further than its interval from now: one further than that
and this was set by a wall clock that has since stepped back (an NTP step, a VM restored
from a snapshot), and is free (``take_slot``), or the channel would wait out the step."""
OUTBOX_ACTOR = Actor(None, "outbox")
"""Who the audit trail names for what the sender records."""
UNCHECKED_RECIPIENT_WAIT = timedelta(minutes=1)
"""How long a DM waits when Slack cannot say whether its recipient is a guest (and never
did): then it is tried again, with no attempt spent."""

KIND_POST = "post"
"""A new top-level message rendered from the row's payload."""
KIND_CARD = "card"
"""A mention's alert card, rendered from the database at send time; its ts is recorded."""
KIND_THREAD = "thread"
"""A reply in the thread of the mention's card (waits until the card is posted)."""
KIND_UPDATE_CARD = "update_card"
"""Re-render the mention's card in place (``chat.update``)."""
KIND_REDACT = "redact"
"""Replace a posted message (payload ``ts``) with the payload's text: used when data is
deleted at the author's request."""
KIND_UPDATE_POST = "update_post"
"""Replace a posted top-level message (payload ``ts``) with the payload's message: a spike
alert brought up to date with its event's latest hour (``bot.services.spikes``)."""
KIND_UPLOAD = "upload"
"""Share a file: payload ``filename``, ``content_b64``, ``title``, optional ``comment``.
Once uploaded, the row keeps all but ``content_b64`` (``uploaded_payload``).
Files carry no metadata, so a crash right after an upload may upload it once more."""
KIND_CHART = "chart"
"""An upload whose PNG is drawn at send time from ``payload["chart"]``
(``bot.reports.charts.render_chart_spec``), or whose PDF is drawn from ``payload["report"]``
(``bot.reports.monthly.render_pdf``), by a sender that draws charts: the worker, so the
web processes spend their CPU on acknowledging Slack."""

KIND_OPPORTUNITY = "opportunity"
"""A conquest opportunity's card, rendered from the database at send time
(``bot.services.opportunities``)."""
KIND_UPDATE_OPPORTUNITY = "update_opportunity"
"""Re-render an opportunity's card in place (payload ``ts``)."""
KIND_RECHECK = "recheck_copies"
"""A later look for copies of a message an uncertain retry posted (``RECHECK_DELAY``
after it): an earlier attempt Slack held past the retry's second look-up may have been
posted since. It reads the channel once more and deletes the copies of that row newer
than the one kept (``_recheck``). Payload: ``of`` (the row), ``kept`` (its ts),
``event_type`` and ``metadata`` (what its message carries), ``thread_ts``, ``since``. It
posts nothing: it neither takes nor holds its channel's pace, and a recheck not due yet
holds nothing back."""

RANK_FEEDBACK = 0
"""Send rank of an update of a posted message (a card after a click, a spike alert brought
up to date, a redaction) and of a note in a posted card's thread: someone waits for it."""
RANK_ALERT = 100
"""Send rank of a "bad buzz" alert (a spike alert and the notes that follow it)."""
RANK_CARD = 200
"""Send rank of a new card of a mention of priority 100; one of priority ``p`` has
``RANK_CARD + 100 - p`` (``card_rank``), an opportunity's card that of priority 0."""
RANK_OTHER = 400
"""Send rank of everything else: digests, reports, files, DMs."""
FEEDBACK_KINDS = frozenset({KIND_UPDATE_CARD, KIND_THREAD, KIND_REDACT, KIND_UPDATE_POST,
                            KIND_UPDATE_OPPORTUNITY})

USER_ID_PREFIXES = ("U", "W")
"""How a row addressed to a user (delivered in their DM with the app) starts its channel:
a user id (``W`` for an Enterprise Grid one), never a channel's (``C``, ``G``, ``D``)."""

Renderer = Callable[[Session, OutboxMessage], OutgoingMessage | None]
"""Builds the message for a row at send time, so a card always shows the latest state."""


@dataclass(frozen=True, slots=True)
class _Hold:
    """A sender's hold on an outbox row: the attempts and the lease end its claim set
    (``_claim``), and when it took it (where ``SEND_BUDGET`` counts from)."""

    row_id: int
    attempts: int
    until: datetime
    taken: datetime


class _HoldLost(Exception):
    """The row is no longer this sender's: its hold ran out and another sender took it
    over, or settled it. Nothing more of this send goes to Slack."""


def _hold_lease(session: Session, hold: _Hold) -> bool:
    """Whether ``hold`` is still its row's: the row is pending, at the attempts and lease
    end its claim set. Compare-and-set, so on PostgreSQL the row stays locked until the
    caller's transaction ends (nobody takes it over meanwhile)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == hold.row_id,
               OutboxMessage.status == OutboxStatus.PENDING.value,
               OutboxMessage.attempts == hold.attempts,
               OutboxMessage.next_attempt_at == hold.until)
        .values(next_attempt_at=hold.until)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


class NotReady(Exception):
    """The row cannot be sent yet (its card is not posted); try again on a later flush."""


class ChannelBusy(Exception):
    """Another sender took the channel's slot: it is free again in ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"channel busy for {seconds:.3f}s")
        self.seconds = seconds


def _pace_key(row: OutboxMessage) -> dict[str, Any]:
    return {"workspace_id": row.workspace_id, "channel": row.channel}


def _tell_admins(session: Session, workspace_id: int, note: Note, key: str) -> None:
    """Queue ``note`` as a DM to each admin of the workspace, once per ``key`` and admin."""
    admins = session.scalars(select(Member.user_id).where(
        Member.workspace_id == workspace_id, Member.role == Role.ADMIN.value)
        .order_by(Member.user_id)).all()
    for user_id in admins:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=user_id,
                   payload=spec_payload(note), dedupe_key=f"{key}:{user_id}")


def do_enqueue(
    session: Session,
    *,
    workspace_id: int,
    kind: str,
    channel: str,
    payload: dict[str, Any] | None = None,
    mention_id: int | None = None,
    dedupe_key: str | None = None,
    every_card: bool = True,
    rank: int | None = None,
) -> OutboxMessage | None:
    """Add a message to the outbox inside the caller's transaction.

    With ``dedupe_key``, a second row with the same key is not added (returns None). A
    card update or a thread note of a mention reaches every card of the mention (one per
    channel): rows for its other cards are added too, unless ``every_card`` is False (a
    note about one channel's card). ``rank`` is the row's place in its channel's queue
    (``RANK_ALERT`` for a spike alert); by default it follows from the row (``send_rank``).
    """
    if dedupe_key is not None and session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ):
        return None
    if kind == KIND_UPDATE_CARD and mention_id is not None and not (payload or {}).get("ts"):
        # The mention's cards in other watches' channels show the same state.
        for other_channel, ts in other_cards(session, mention_id):
            session.add(OutboxMessage(workspace_id=workspace_id, kind=kind,
                                      channel=other_channel, payload={"ts": ts},
                                      mention_id=mention_id, send_rank=RANK_FEEDBACK))
    if kind == KIND_THREAD and mention_id is not None and every_card \
            and not (payload or {}).get("thread_ts"):
        # The note goes to the thread of each of the mention's cards (one per channel),
        # posted or on its way; each row finds its channel's card at send time.
        for other_channel in card_channels(session, mention_id):
            if other_channel != channel:
                session.add(OutboxMessage(
                    workspace_id=workspace_id, kind=kind, channel=other_channel,
                    payload=dict(payload or {}), mention_id=mention_id,
                    send_rank=send_rank(session, kind, other_channel, mention_id,
                                        payload or {}) if rank is None else rank))
    row = OutboxMessage(
        workspace_id=workspace_id, kind=kind, channel=channel, payload=payload or {},
        mention_id=mention_id, dedupe_key=dedupe_key,
        send_rank=send_rank(session, kind, channel, mention_id, payload or {})
        if rank is None else rank,
    )
    session.add(row)
    session.flush()
    return row


def card_rank(priority: int | None) -> int:
    """The send rank of a new card of a mention of ``priority`` (0 to 100): the higher the
    priority, the sooner it goes (``RANK_CARD`` for 100)."""
    return RANK_CARD + 100 - max(0, min(100, priority or 0))


def send_rank(session: Session, kind: str, channel: str, mention_id: int | None,
              payload: dict[str, Any]) -> int:
    """Where a new row of ``kind`` goes in ``channel``'s queue (lowest first, then by id).

    A note or an update of a mention's card not posted yet in ``channel`` cannot go before
    it: it takes the rank of the card on its way, and so follows it, as it did when a
    channel went in id order (sent first, it would only wait, ``NotReady``, read at each
    flush). Spike alerts are ranked by their caller (``RANK_ALERT``).
    """
    if kind == KIND_CARD:
        mention = session.get(Mention, mention_id) if mention_id is not None else None
        return card_rank(mention.priority if mention is not None else None)
    if kind == KIND_OPPORTUNITY:
        return card_rank(0)
    if kind not in FEEDBACK_KINDS:
        return RANK_OTHER
    if kind in (KIND_THREAD, KIND_UPDATE_CARD) and mention_id is not None \
            and not payload.get("thread_ts") and not payload.get("ts"):
        mention = session.get(Mention, mention_id)
        if mention is not None and card_ts(session, mention, channel) is None:
            card = session.scalar(select(func.max(OutboxMessage.send_rank)).where(
                OutboxMessage.mention_id == mention_id, OutboxMessage.kind == KIND_CARD,
                OutboxMessage.channel == channel,
                OutboxMessage.status == OutboxStatus.PENDING.value))
            if card is not None:
                return max(int(card), RANK_FEEDBACK)
    return RANK_FEEDBACK


def _payload_message(session: Session, row: OutboxMessage) -> OutgoingMessage:
    payload = row.payload
    thread_ts = payload.get("thread_ts")
    if row.kind == KIND_THREAD and not thread_ts:
        mention = session.get(Mention, row.mention_id) if row.mention_id else None
        thread_ts = card_ts(session, mention, row.channel) if mention is not None else None
        if thread_ts is None:
            raise NotReady("the card of this mention is not posted yet")
    spec = payload_spec(payload)
    if isinstance(spec, Note):
        check_known(spec)
    # Rows written before specs were data carry their rendered text and blocks: sent as is.
    return OutgoingMessage(
        channel=row.channel,
        text=str(payload.get("text", "")),
        blocks=payload.get("blocks"),
        spec=spec,
        thread_ts=thread_ts,
        event_type=EVENT_TYPE_MESSAGE,
        event_payload=message_metadata(row),
    )


def prune_pace(sessions: sessionmaker[Session], now: datetime) -> int:
    """Delete the pace rows (``outbox_pace``) whose slot freed more than ``PACE_KEPT``
    before ``now``: one row per channel ever sent to would otherwise stay for ever. A row
    is written again with the channel's next message. Returns how many went."""
    with transaction(sessions) as session:
        gone = session.execute(delete(OutboxPace).where(OutboxPace.next_at < now - PACE_KEPT)
                               .execution_options(synchronize_session=False))
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]


STALE_REPORTS = timedelta(days=1)
"""A queued daily digest or monthly report older than this, kept from Slack by a refused
token or an uninstall, is dropped when the workspace can be reached again."""
REPORT_KEYS = ("digest:", "report:")
"""The ``dedupe_key`` prefixes of scheduled digests and monthly reports."""


def drop_stale_reports(session: Session, workspace_id: int, now: datetime, reason: str) -> int:
    """Fail (``reason``) the workspace's pending daily digests and monthly reports queued
    more than ``STALE_REPORTS`` before ``now``; returns how many. Kept from Slack that long
    (uninstalled, the token refused), they would reach the channel days late, several at
    once, each telling numbers the next digest tells better (a report can be asked for
    again: `/cm report month YYYY-MM`). Cards and other messages are left to be sent."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.workspace_id == workspace_id,
               OutboxMessage.status == OutboxStatus.PENDING.value,
               or_(*(OutboxMessage.dedupe_key.startswith(key) for key in REPORT_KEYS)),
               OutboxMessage.created_at < now - STALE_REPORTS)
        .values(status=OutboxStatus.FAILED.value, last_error=reason)
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def message_metadata(row: OutboxMessage) -> dict[str, Any]:
    """The metadata payload that lets a retry find a message already posted for ``row``:
    its id, its mention and its creation time (``OUTBOX_CREATED``)."""
    created = None if row.created_at is None else \
        as_utc(row.created_at).isoformat(timespec="microseconds")
    return {"outbox_id": row.id, "mention_id": row.mention_id, OUTBOX_CREATED: created}


def _lookup_keys(message: OutgoingMessage) -> dict[str, Any]:
    """What a retry's look-up matches besides the row's id (``find_all_posted``): the
    row's mention, and its creation time on messages that carry it (``OUTBOX_CREATED``)."""
    payload = message.event_payload or {}
    created = payload.get(OUTBOX_CREATED)
    return {"also": {"mention_id": payload.get("mention_id")},
            "token": None if created is None else (OUTBOX_CREATED, created)}


class TokenWatch(Protocol):
    """Who follows what Slack answers to the bot token (``bot.slack.token_state``)."""

    def refused(self, code: str) -> None:
        """Slack refused the token with ``code``."""

    def accepted(self) -> None:
        """A call with the token went through."""

    def current(self) -> str | None:
        """Slack's error code while it refuses the token, else None."""

    def verify(self) -> bool | None:
        """Ask Slack now whether it accepts the token: True, False, or None (not told)."""


@dataclass
class FlushReport:
    """What one flush did."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    recovered: int = 0
    paused: int = 0
    """Rows met in this flush and left pending because their workspace's token is refused
    (later flushes do not read a paused workspace's rows until its next probe)."""
    withheld: int = 0
    """Messages to a Slack guest no admin gave a role, settled without sending."""
    errors: list[str] = field(default_factory=list)


class OutboxSender:
    """Delivers pending outbox rows through a Notifier."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        notifier: Notifier,
        *,
        per_channel_interval: float = 1.0,
        renderers: dict[str, Renderer] | None = None,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        draws_charts: bool = True,
        directories: UserDirectories | None = None,
        default_timezone: str = "UTC",
    ) -> None:
        self._sessions = sessions
        self._default_timezone = default_timezone
        """The zone of a workspace without its own (SLA business hours, ``_resume``)."""
        self._directories = directories
        """Slack's directories: a DM to a guest no admin gave a role is withheld."""
        self.draws_charts = draws_charts
        self._notifier = notifier
        self._interval = per_channel_interval
        self._renderers: dict[str, Renderer] = {
            KIND_POST: _payload_message, KIND_THREAD: _payload_message,
            KIND_REDACT: _payload_message, KIND_UPDATE_POST: _payload_message,
        }
        self._renderers.update(renderers or {})
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._lookups = LookupBudget(clock=monotonic)
        """Every look-up of this sender spends it: a wave of rows whose posts may have
        gone through must not use up conversations.history's Tier 3 (see
        ``LookupBudget``). A look-up it refuses defers its row, which looks again later:
        never posted without its look-up."""
        self._free_at: dict[str, float] = {}
        """Channel -> when (``monotonic``) this sender may send to it again."""
        self._not_known: dict[int, datetime] = {}
        """Rows this release cannot render -> when to look at them again (a newer
        release's process, sharing the database, sends them meanwhile)."""
        self._flush_lock = threading.Lock()
        self._pauses: dict[int, datetime] = {}
        """Paused workspaces -> when to probe, as read at the start of the flush."""
        self._probed: set[int] = set()
        """Paused workspaces whose probe went to Slack in this flush."""
        self._uninstalled: set[int] = set()
        """Paused workspaces marked uninstalled, as read at the start of the flush: no row
        of theirs is a probe, whatever their probe time."""
        self._unanswered: set[int] = set()
        """Paused workspaces whose last token check got no answer about the token (Slack
        not reached, a 5xx): logged once until Slack answers one."""
        self._started = False
        self._stopping = False
        self.token_watch: TokenWatch | None = None
        """Told each refusal of the token and each delivery (the single-token mode's
        SLACK_BOT_TOKEN, which ``/readyz`` reports on); None with several workspaces."""

    def stop(self) -> None:
        """Send nothing more: a flush under way ends after the row it is sending."""
        self._stopping = True

    def register_renderer(self, kind: str, renderer: Renderer) -> None:
        """Teach the sender how to build messages of ``kind`` at send time."""
        self._renderers[kind] = renderer

    def pending_count(self) -> int:
        """How many rows wait to be delivered (not the rechecks, ``KIND_RECHECK``, which
        deliver nothing)."""
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.PENDING.value,
                OutboxMessage.kind != KIND_RECHECK)) or 0)

    def flush(self, *, limit: int = 200, wait: bool = False) -> FlushReport:
        """Send what is due, in each channel by rank (``send_rank``), then in id order.

        Without ``wait``, a channel that sent less than ``per_channel_interval`` ago is left
        for the next flush; with ``wait`` the sender sleeps instead (one-shot commands).
        """
        with self._flush_lock:
            return self._flush(limit, wait)

    def _flush(self, limit: int, wait: bool) -> FlushReport:
        report = FlushReport()
        now = self._clock()
        # Rows a newer process sent meanwhile are never read again here: forget them.
        self._not_known = {row_id: at for row_id, at in self._not_known.items() if at > now}
        with self._sessions() as session:
            pauses = session.execute(
                select(OutboxPause.workspace_id, OutboxPause.next_probe_at, OutboxPause.error,
                       Workspace.uninstalled_at)
                .join(Workspace, Workspace.id == OutboxPause.workspace_id)).tuples().all()
        self._pauses = {workspace_id: probe_at for workspace_id, probe_at, _, _ in pauses}
        # No row of theirs is tried: only an install ends their pause (``do_reinstalled``).
        self._uninstalled = {workspace_id for workspace_id, _, _, uninstalled in pauses
                             if uninstalled is not None}
        if not self._started:
            # A (re)started process probes at once: it may have been given a new token.
            self._pauses = dict.fromkeys(self._pauses, now)
            self._started = True
        probing = [workspace_id for workspace_id, _, error, _ in pauses
                   if error in DEAD_TOKEN_PAUSES and self._pauses[workspace_id] <= now
                   and workspace_id not in self._uninstalled]
        # Those whose token is checked (``_check_token``) if no row of theirs is tried.
        checks = [(workspace_id, probe_at) for workspace_id, probe_at, _, _ in pauses
                  if workspace_id in probing]
        if probing:
            # A refused token may work again at this probe: a digest or report it kept
            # waiting for days must not be that probe, nor follow it.
            with transaction(self._sessions) as session:
                for workspace_id in probing:
                    drop_stale_reports(session, workspace_id, now,
                                       "dropped: stale digest or report, Slack refused the "
                                       "token meanwhile")
        self._probed = set()
        with self._sessions() as session:
            # A row waiting for its retry (Retry-After, a backoff) or in another sender's
            # hands holds its whole channel, the rows ranked before it too.
            blocked: set[str] = set(session.scalars(
                select(OutboxMessage.channel).where(
                    OutboxMessage.status == OutboxStatus.PENDING.value,
                    OutboxMessage.next_attempt_at > now,
                    OutboxMessage.kind != KIND_RECHECK)))
        considered, after = 0, (-1, 0)
        while considered < limit:
            # Rows of a channel that must wait, or of a paused workspace, neither count nor
            # are read again: thousands of them must not take the flush's whole window and
            # starve the other channels.
            resting = [ws for ws, probe_at in self._pauses.items()
                       if probe_at > now or ws in self._probed or ws in self._uninstalled]
            query = (select(OutboxMessage.id, OutboxMessage.channel,
                            OutboxMessage.next_attempt_at, OutboxMessage.workspace_id,
                            OutboxMessage.send_rank, OutboxMessage.kind)
                     .where(OutboxMessage.status == OutboxStatus.PENDING.value,
                            tuple_(OutboxMessage.send_rank, OutboxMessage.id)
                            > tuple_(literal(after[0]), literal(after[1]))))
            if resting:
                query = query.where(OutboxMessage.workspace_id.not_in(resting))
            if blocked:
                query = query.where(OutboxMessage.channel.not_in(blocked))
            asked = limit - considered
            with self._sessions() as session:
                rows = session.execute(query.order_by(OutboxMessage.send_rank, OutboxMessage.id)
                                       .limit(asked)).all()
            for row_id, channel, next_attempt_at, workspace_id, rank, kind in rows:
                if self._stopping:
                    return report
                after = (rank, row_id)
                if kind == KIND_RECHECK:
                    # Posts nothing: no pace, and it holds its channel neither before it is
                    # due nor while it looks.
                    if next_attempt_at <= now and workspace_id not in self._pauses:
                        self._recheck(row_id, report)
                        considered += 1
                    continue
                if self._consider(row_id, channel, next_attempt_at, workspace_id, now, wait,
                                  blocked, report):
                    considered += 1
            if len(rows) < asked:
                break  # nothing more was pending when the batch was read
        for workspace_id, probe_at in checks:
            if self._stopping:
                break
            if workspace_id not in self._probed:
                self._check_token(workspace_id, probe_at, report)
        return report

    def _check_token(self, workspace_id: int, probe_at: datetime,
                     report: FlushReport) -> None:
        """Probe the pause of ``workspace_id`` on a refused token when no row of it went to
        Slack in this flush and none is due (a quiet workspace, which the scheduled jobs
        queue nothing for while it is paused, ``reach``; a row due but not tried, the
        flush's budget spent first, is the probe of a later flush): ask Slack whether it
        accepts the token now (``Notifier.check_token``, ``auth.test``). Accepted, the
        pause ends as after a delivery (``_resume``); refused, it is extended as after a
        refused delivery (``_pause``); Slack not reached, it is tried again later, the
        pause kept as it is.

        The probe is claimed first by moving the pause's probe time on by ``SEND_LEASE``
        (compare-and-set on ``probe_at``, its time when the flush began), so that of the
        senders of several processes only one asks. A workspace marked uninstalled is not
        probed: Slack said its tokens are gone, and only an install brings one back
        (``bot.services.installs.do_reinstalled``)."""
        now = self._clock()
        with transaction(self._sessions) as session:
            if self._row_due(session, workspace_id, now):
                return  # not tried in this flush (its budget ran out...): it is the probe
            claimed = session.execute(
                update(OutboxPause)
                .where(OutboxPause.workspace_id == workspace_id,
                       OutboxPause.next_probe_at == probe_at,
                       OutboxPause.error.in_(sorted(DEAD_TOKEN_PAUSES)))
                .values(next_probe_at=now + SEND_LEASE)
                .execution_options(synchronize_session=False))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return  # another sender probes it, or its pause ended or changed
            team = session.scalar(select(Workspace.team_id).where(
                Workspace.id == workspace_id))
        self._probed.add(workspace_id)
        try:
            self._notifier.check_token(team)
        except DeliveryError as err:
            self._token_not_accepted(workspace_id, team, err, report)
            return
        self._unanswered.discard(workspace_id)
        with transaction(self._sessions) as session:
            uninstalled = session.scalar(select(Workspace.uninstalled_at).where(
                Workspace.id == workspace_id))
            if uninstalled is None:
                self._resume(session, workspace_id, posted=False)
        if uninstalled is None and self.token_watch is not None:
            self.token_watch.accepted()

    def _row_due(self, session: Session, workspace_id: int, now: datetime) -> bool:
        """Whether a pending row of ``workspace_id`` is due, one this sender would try as
        the probe of its pause (not a recheck, nor a row left to a newer release)."""
        query = select(OutboxMessage.id).where(
            OutboxMessage.workspace_id == workspace_id,
            OutboxMessage.status == OutboxStatus.PENDING.value,
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.kind != KIND_RECHECK)
        if self._not_known:
            query = query.where(OutboxMessage.id.not_in(list(self._not_known)))
        return session.scalar(query.limit(1)) is not None

    def _consider(self, row_id: int, channel: str, next_attempt_at: datetime,
                  workspace_id: int, now: datetime, wait: bool, blocked: set[str],
                  report: FlushReport) -> bool:
        """Send one row of the flush unless its channel or workspace must wait; False when
        it was passed over without a look (its channel or workspace waits already)."""
        probe_at = self._pauses.get(workspace_id)
        if probe_at is not None and (probe_at > now or workspace_id in self._probed
                                     or workspace_id in self._uninstalled):
            report.paused += 1
            return False
        if channel in blocked:
            return False
        recheck = self._not_known.get(row_id)
        if recheck is not None:
            if recheck > now:
                return False  # left for a newer release; its channel goes on
            del self._not_known[row_id]
        if next_attempt_at > now:
            # An earlier row of this channel waits for its retry: later ones wait too.
            blocked.add(channel)
            return True
        if self._withheld(row_id, channel, workspace_id, report):
            return True
        wait_for = self._free_at.get(channel, float("-inf")) - self._monotonic()
        if wait_for > 0:
            if not wait:
                blocked.add(channel)
                report.deferred += 1
                return True
            self._sleep(wait_for)
        for _ in range(MAX_PACE_WAITS):
            try:
                sent_or_settled = self._send_one(row_id, report)
            except ChannelBusy as busy:
                # Another sender took the channel's slot: see the module docstring.
                self._free_at[channel] = self._monotonic() + busy.seconds
                if wait:
                    self._sleep(busy.seconds)
                    continue
                sent_or_settled = False
                report.deferred += 1
            if not sent_or_settled:
                # Keep per-channel order: nothing after a row that must wait.
                blocked.add(channel)
            return True
        blocked.add(channel)
        report.deferred += 1
        return True

    def _send_one(self, row_id: int, report: FlushReport) -> bool:
        """Claim, render and deliver one row; False when its channel must wait."""
        with transaction(self._sessions) as session:
            row = session.get(OutboxMessage, row_id, with_for_update=True)
            if row is None or row.status != OutboxStatus.PENDING.value:
                return True
            if row.next_attempt_at > self._clock():
                return False  # another sender holds its lease: keep the channel's order
            workspace_id = row.workspace_id
            # Nothing this row posted is older than the row (less the clocks' disagreement).
            since = as_utc(row.created_at) - LOOKUP_CLOCK_MARGIN
            team = session.scalar(select(Workspace.team_id).where(
                Workspace.id == row.workspace_id))
            if row.kind == KIND_CHART and not self.draws_charts:
                return False  # left, with what follows in its channel, to the worker
            if row.kind in (KIND_UPLOAD, KIND_CHART):
                previous_attempts = row.attempts
                not_posted = (row.last_error or "").startswith(NOT_POSTED)
                hold = self._claim(session, row)
                if hold is None:
                    return False
                self._take_slot(session, row)
                if not_posted:
                    row.last_error = (row.last_error or "").removeprefix(NOT_POSTED)
                upload = (row.channel, {**row.payload, "team_id": team})
                message, target_ts = None, None
            else:
                upload = None
                renderer = self._renderers.get(row.kind)
                if renderer is None:
                    self._not_known_here(session, row,
                                         f"no renderer for outbox kind {row.kind!r}", report)
                    return True
                try:
                    message = renderer(session, row)
                    target_ts = self._update_target(session, row)
                except NotReady as err:
                    if not card_on_its_way(session, row):
                        self._fail(session, row, f"{CARD_LOST}{err}", report)
                        return True
                    # It waits for its card without holding its channel: see the docstring.
                    report.deferred += 1
                    return True
                except UnknownMessage as err:
                    self._not_known_here(session, row, err.args[0] if err.args else str(err),
                                         report)
                    return True
                except Exception as err:  # noqa: BLE001  (a payload that cannot be read never will be)
                    self._fail(session, row, _unrenderable(err), report)
                    return True
                if message is None:
                    row.status = OutboxStatus.SENT.value
                    row.sent_at = self._clock()
                    return True
                message = replace(message, team_id=team)
                previous_attempts = row.attempts
                not_posted = (row.last_error or "").startswith(NOT_POSTED)
                hold = self._claim(session, row)
                if hold is None:
                    return False
                self._take_slot(session, row)
                if not_posted:
                    row.last_error = (row.last_error or "").removeprefix(NOT_POSTED)
        # The attempt is committed before Slack is called: see the module docstring.
        if workspace_id in self._pauses:
            self._probed.add(workspace_id)
        if upload is not None:
            return self._upload(hold, *upload, report, workspace_id=workspace_id,
                                may_be_shared=bool(previous_attempts) and not not_posted,
                                since=since)
        assert message is not None
        ts: str | None = None
        own: str | None = None
        looking = posted = updated = False
        # Only an attempt whose outcome is unknown (a timeout, a 5xx) may have posted.
        may_be_posted = bool(previous_attempts and not not_posted and message.event_type
                             and target_ts is None)
        try:
            if may_be_posted:
                looking = True
                found = self._notifier.find_all_posted(
                    message.channel, str(message.event_type), "outbox_id", row_id,
                    team_id=message.team_id, thread_ts=message.thread_ts, since=since,
                    budget=self._lookups, **_lookup_keys(message))
                looking = False
                if found:
                    ts = self._keep_first(message, row_id, found)
                    report.recovered += 1
            if ts is None:
                self._before_call(hold)
                if target_ts is not None:
                    self._notifier.update(target_ts, message)
                    ts, updated = target_ts, True
                else:
                    ts = own = self._notifier.post(message)
                    posted = True
                    if may_be_posted:
                        ts = self._after_uncertain_post(message, row_id, ts, since)
        except _HoldLost:
            log.warning("outbox row %s: its hold ran out before it was sent (this sender "
                        "stalled); left to the sender that took it over", row_id)
            return True
        except DeliveryError as err:
            return self._record_failure(hold, err, report, in_lookup=looking)
        except UnknownMessage as err:
            # Rendered as it was sent: nothing went to Slack. The claim is given back.
            with transaction(self._sessions) as session:
                claimed = self._held_row(session, hold)
                if claimed is not None:
                    claimed.attempts = max(0, claimed.attempts - 1)
                    claimed.next_attempt_at = self._clock()
                    self._not_known_here(session, claimed,
                                         err.args[0] if err.args else str(err), report)
            return True
        except Exception as err:  # noqa: BLE001  (the notifier renders the spec as it sends)
            # A spec that cannot be rendered never will be: retrying it would stop every
            # flush at this row and hold its channel for ever.
            with transaction(self._sessions) as session:
                failed = self._held_row(session, hold)
                if failed is not None:
                    self._fail(session, failed, _unrenderable(err), report)
            return True
        self._free_at[message.channel] = self._monotonic() + self._interval
        recheck = None
        if may_be_posted and (posted or previous_attempts > 1):
            recheck = self._recheck_payload(message, row_id, ts, since)
        if not self._record_success(hold, ts, recheck=recheck, posted=posted or updated):
            if own is not None and own == ts:
                self._delete_late_copy(row_id, own, message.team_id, message.channel)
            else:
                log.warning("outbox row %s: its hold ran out while it was sent (this sender "
                            "stalled): %s not recorded, the row is the sender's that took "
                            "it over", row_id, ts)
            return True
        report.sent += 1
        return True

    def _token_not_accepted(self, workspace_id: int, team: str | None, err: DeliveryError,
                            report: FlushReport) -> None:
        """Slack did not accept the token of ``workspace_id`` at its check (``err``): a
        refused token extends the pause with the probes' backoff, as a refused delivery
        does (``_pause``); anything else (Slack not reached, a 5xx) says nothing of the
        token, its count of probes unchanged: the check is tried again after as long as
        Slack has given no answer about the token (since the pause's last refusal,
        ``last_probe_at``), at least the pause's backoff and at most ``PROBE_CAP_SECONDS``,
        so an outage of Slack's spaces the checks out as it lasts (60 s, 2, 4, 8 min...).
        Logged once (a warning) until Slack answers a check again."""
        delay = 0.0
        with transaction(self._sessions) as session:
            pause = session.get(OutboxPause, workspace_id, with_for_update=True)
            if pause is None:
                return  # a delivery of another sender ended it meanwhile
            if err.token_dead:
                report.paused += 1
                self._pause(session, workspace_id, err)
            else:
                now = self._clock()
                unanswered = (now - as_utc(pause.last_probe_at or pause.paused_at)
                              ).total_seconds()
                delay = max(exponential(pause.probes, base=PROBE_BASE_SECONDS,
                                        cap=PROBE_CAP_SECONDS, max_exponent=16),
                            min(unanswered, PROBE_CAP_SECONDS), err.retry_after or 0.0)
                pause.next_probe_at = now + timedelta(seconds=delay)
                self._pauses[workspace_id] = pause.next_probe_at
        if err.token_dead:
            self._unanswered.discard(workspace_id)
            if self.token_watch is not None:
                self.token_watch.refused(str(err.code))
        elif workspace_id not in self._unanswered:
            self._unanswered.add(workspace_id)
            log.warning("could not ask Slack whether it accepts the bot token of workspace "
                        "%s, whose outbox is paused: %s; asking again in %.0fs, then less "
                        "and less often while Slack gives no answer (not logged again)",
                        team, err, delay)
        else:
            log.debug("still no answer from Slack about the bot token of workspace %s: %s; "
                      "asking again in %.0fs", team, err, delay)

    def _delete_late_copy(self, row_id: int, copy: str, team_id: str | None,
                          channel: str | None = None) -> None:
        """Delete the message or file ``copy`` this sender posted or shared for row
        ``row_id`` after its hold ran out (it stalled, another sender took the row over and
        posted or records its own): the row keeps the other sender's, the only one left.
        ``copy`` is the ts of a message in ``channel``, or, with no channel, the id of a
        file (files carry no metadata, so no later look-up would find that copy). A
        deletion Slack refuses leaves the copy (logged)."""
        posted, late = ("posted", "late copy") if channel is not None else ("shared", "late file")
        try:
            if channel is not None:
                self._notifier.delete(channel, copy, team_id=team_id)
            else:
                self._notifier.delete_file(copy, team_id=team_id)
        except DeliveryError as err:
            log.error("outbox row %s was %s twice (this sender stalled past its hold): "
                      "could not delete its %s %s: %s", row_id, posted, late, copy, err)
        else:
            log.warning("outbox row %s was %s twice (this sender stalled past its hold): "
                        "deleted its %s %s", row_id, posted, late, copy)

    def _held_row(self, session: Session, hold: _Hold) -> OutboxMessage | None:
        """The row of ``hold`` while it is still this sender's (``_hold_lease``), else
        None: a sender that stalled past its hold records nothing over what the sender that
        took the row over did."""
        if not _hold_lease(session, hold):
            log.warning("outbox row %s: its hold ran out (this sender stalled): it records "
                        "nothing more of it", hold.row_id)
            return None
        return session.get(OutboxMessage, hold.row_id, populate_existing=True)

    @staticmethod
    def _recheck_payload(message: OutgoingMessage, row_id: int, ts: str,
                         since: datetime) -> dict[str, Any] | None:
        """The payload of the recheck (``KIND_RECHECK``) of row ``row_id``, which kept
        ``ts``; None when its message carries no creation time to tell its copies by."""
        metadata = dict(message.event_payload or {})
        if metadata.get(OUTBOX_CREATED) is None:
            return None
        return {"of": row_id, "kept": ts, "event_type": message.event_type,
                "metadata": metadata, "thread_ts": message.thread_ts,
                "since": since.isoformat()}

    def _after_uncertain_post(self, message: OutgoingMessage, row_id: int, ts: str,
                              since: datetime) -> str:
        """The ts the row keeps after posting ``ts`` when an earlier attempt may be posted
        too: an attempt Slack held past the client's timeout can take effect later, after
        this retry's look-up found nothing (Slack's chat.postMessage takes no idempotency
        key). The channel is read again: when both are there, the first stays and the
        others are deleted (``_keep_first``). The message is posted whatever this look-up
        says: it failing is logged, never retried."""
        try:
            found = self._notifier.find_all_posted(
                message.channel, str(message.event_type), "outbox_id", row_id,
                team_id=message.team_id, thread_ts=message.thread_ts, since=since,
                budget=self._lookups, **_lookup_keys(message))
        except DeliveryError as err:
            log.warning("outbox row %s: could not check for an earlier copy after posting "
                        "it again: %s", row_id, err)
            return ts
        return self._keep_first(message, row_id, [*found, ts])

    def _recheck(self, row_id: int, report: FlushReport) -> None:
        """Run the recheck ``row_id`` (``KIND_RECHECK``): read its row's channel once more
        and delete that row's copies newer than the one it kept. A copy is the row's only
        when its metadata names the row, its mention and its creation time
        (``OUTBOX_CREATED``): a message another row posted, or one whose metadata lacks the
        time (an older release's), is never deleted. Nor is the one kept, nor an older one
        (logged): the kept one is the row's, recorded and linked to."""
        with transaction(self._sessions) as session:
            row = session.get(OutboxMessage, row_id, with_for_update=True)
            if row is None or row.status != OutboxStatus.PENDING.value:
                return
            if row.next_attempt_at > self._clock() or not self._claim(session, row):
                return  # another sender checks it
            channel, payload = row.channel, dict(row.payload)
            team = session.scalar(select(Workspace.team_id).where(
                Workspace.id == row.workspace_id))
        of, kept = payload.get("of"), str(payload.get("kept") or "")
        metadata = payload.get("metadata") or {}
        created = metadata.get(OUTBOX_CREATED)
        try:
            if not kept or not created:
                raise ValueError("nothing to tell the row's copies by")
            since = datetime.fromisoformat(str(payload["since"]))
        except (KeyError, ValueError) as err:
            self._recheck_later(row_id, DeliveryError(f"unreadable recheck: {err}"), report)
            return
        try:
            found = self._notifier.find_all_posted(
                channel, str(payload.get("event_type")), "outbox_id", metadata.get("outbox_id"),
                team_id=team, thread_ts=payload.get("thread_ts"),
                since=since, also={"mention_id": metadata.get("mention_id"),
                                   OUTBOX_CREATED: created},
                budget=self._lookups)
        except DeliveryError as err:
            self._recheck_later(row_id, err, report)
            return
        copies = sorted({ts for ts in found if ts != kept}, key=_ts_order)
        if any(_ts_order(ts) < _ts_order(kept) for ts in copies):
            log.warning("outbox row %s has a copy older than the one it kept (%s): left "
                        "as it is", of, kept)
        for extra in (ts for ts in copies if _ts_order(ts) > _ts_order(kept)):
            try:
                self._notifier.delete(channel, extra, team_id=team)
            except DeliveryError as err:
                log.warning("outbox row %s: could not delete its late copy %s: %s", of,
                            extra, err)
            else:
                log.warning("outbox row %s was posted twice (an attempt Slack acted on "
                            "late): deleted the late copy %s, kept %s", of, extra, kept)
        with transaction(self._sessions) as session:
            row = session.get(OutboxMessage, row_id)
            if row is not None:
                row.status = OutboxStatus.SENT.value
                row.sent_at = self._clock()
                row.last_error = None

    def _recheck_later(self, row_id: int, err: DeliveryError, report: FlushReport) -> None:
        """The recheck ``row_id`` could not read its channel: try it again later, up to
        ``RECHECK_ATTEMPTS`` times (a refusal that read nothing, a 429 or the look-up
        budget, spends no attempt), then give it up, logged."""
        with transaction(self._sessions) as session:
            row = session.get(OutboxMessage, row_id)
            if row is None:
                return
            of = (row.payload or {}).get("of")
            if err.nothing_posted:
                row.attempts = max(0, row.attempts - 1)
            row.last_error = str(err)[:500]
            if err.retryable and row.attempts < RECHECK_ATTEMPTS:
                delay = max(err.retry_after or 0.0, RECHECK_DELAY.total_seconds() / 4)
                row.next_attempt_at = self._clock() + timedelta(seconds=delay)
                report.deferred += 1
                return
            row.status = OutboxStatus.SENT.value
            row.sent_at = self._clock()
        log.warning("outbox row %s: gave up looking for late copies of its message: %s",
                    of, err)

    def _keep_first(self, message: OutgoingMessage, row_id: int, found: list[str]) -> str:
        """The first (oldest) of the messages ``found`` for row ``row_id``, the others
        deleted: the first is the one people may have seen and acted on already, and every
        sender that finds the copies keeps the same one. A deletion Slack refuses leaves
        that copy (logged)."""
        unique = sorted(set(found), key=_ts_order)
        for extra in unique[1:]:
            try:
                self._notifier.delete(message.channel, extra, team_id=message.team_id)
            except DeliveryError as err:
                log.warning("outbox row %s: could not delete its copy %s: %s", row_id,
                            extra, err)
            else:
                log.warning("outbox row %s was posted twice (an attempt Slack acted on "
                            "late): deleted the copy %s, kept %s", row_id, extra, unique[0])
        return unique[0]

    def _withheld(self, row_id: int, channel: str, workspace_id: int,
                  report: FlushReport) -> bool:
        """Settle, unsent, the row ``row_id`` if it is a message to a user (``channel``, a
        DM) whom Slack says is a guest no admin gave a role
        (``permissions.guest_without_role``); False for any other row. Slack is asked
        before the row is claimed: no lock is held over the look-up."""
        if self._directories is None or channel[:1] not in USER_ID_PREFIXES:
            return False
        user_id = channel
        with self._sessions() as session:
            team_id = session.scalar(select(Workspace.team_id).where(
                Workspace.id == workspace_id))
        guest = guest_without_role(self._sessions, workspace_id, user_id,
                                   self._directories.for_workspace(workspace_id, team_id))
        if guest is False:
            return False
        if guest is None:
            # Slack cannot say whether they are a guest: the DM waits, no attempt spent.
            with transaction(self._sessions) as session:
                row = session.get(OutboxMessage, row_id, with_for_update=True)
                if row is not None and row.status == OutboxStatus.PENDING.value and \
                        row.next_attempt_at <= self._clock():
                    row.next_attempt_at = self._clock() + UNCHECKED_RECIPIENT_WAIT
            log.info("outbox row %s waits: Slack cannot say whether its recipient is a "
                     "guest", row_id)
            return True
        with transaction(self._sessions) as session:
            row = session.get(OutboxMessage, row_id, with_for_update=True)
            if row is None or row.status != OutboxStatus.PENDING.value:
                return True
            if row.next_attempt_at > self._clock():
                return False  # another sender holds its lease: it decides
            row.status = OutboxStatus.SENT.value
            row.sent_at = self._clock()
        report.withheld += 1
        log.info("outbox row %s not sent: its recipient is a Slack guest with no role", row_id)
        return True

    def _take_slot(self, session: Session, row: OutboxMessage) -> None:
        """Take the next slot of the row's channel, shared by every sender through the
        database; ChannelBusy (rolling back the caller's transaction, with its claim of the
        row) when another sender holds it.

        Taken after the claim: a sender that loses the row must not spend the slot.
        """
        if self._interval <= 0:
            return
        now = self._clock()
        until = now + timedelta(seconds=self._interval)
        frees = take_slot(session, OutboxPace, _pace_key(row), now=now, until=until,
                          stale=until + PACE_CLOCK_SLACK)
        if frees is not None:
            raise ChannelBusy(max((as_utc(frees) - now).total_seconds(), MIN_PACE_WAIT))

    def _claim(self, session: Session, row: OutboxMessage) -> _Hold | None:
        """Take the row with a compare-and-set: its hold, None if another sender took it
        first.

        The lease makes the row "not due" for every other sender while we call Slack.
        """
        now = self._clock()
        if not take_lease(session, OutboxMessage, row.id, pending=OutboxStatus.PENDING.value,
                          attempts=row.attempts, now=now, until=now + SEND_LEASE):
            return None
        return _Hold(row.id, row.attempts + 1, now + SEND_LEASE, now)

    def _before_call(self, hold: _Hold) -> None:
        """Right before a call to Slack that shows something (a message posted or
        updated, a step of an upload): ``_HoldLost`` when the row is no longer this
        sender's, a retryable DeliveryError when the call could end past the send's budget
        (``SEND_BUDGET``), so past the hold for a sender that does not stall."""
        self._within_budget(hold)
        with transaction(self._sessions) as session:
            if not _hold_lease(session, hold):
                raise _HoldLost(hold.row_id)

    def _within_budget(self, hold: _Hold) -> None:
        """A retryable DeliveryError when a call to Slack started now could end past the
        budget of the send of ``hold`` (``SEND_BUDGET``)."""
        if self._clock() + SLACK_CALL_TIMEOUT > hold.taken + SEND_BUDGET:
            raise DeliveryError(
                f"its send ran past its budget ({SEND_BUDGET.total_seconds():.0f}s on "
                "Slack): the rest of it is left to a retry",
                retry_after=BACKOFF_BASE_SECONDS)

    @staticmethod
    def _update_target(session: Session, row: OutboxMessage) -> str | None:
        """The ts a card update replaces; NotReady while the card is not posted yet."""
        if row.kind in (KIND_REDACT, KIND_UPDATE_OPPORTUNITY, KIND_UPDATE_POST):
            return str(row.payload["ts"])
        if row.kind != KIND_UPDATE_CARD:
            return None
        target = row.payload.get("ts")
        if not target and row.mention_id is not None:
            mention = session.get(Mention, row.mention_id)
            target = card_ts(session, mention, row.channel) if mention else None
        if not target:
            raise NotReady("the card to update is not posted yet")
        return str(target)

    def _upload(self, hold: _Hold, channel: str, payload: dict[str, Any],
                report: FlushReport, *, workspace_id: int, may_be_shared: bool,
                since: datetime) -> bool:
        """Share the row's file; first, when an earlier attempt may have shared it (its
        answer lost: a timeout, a 5xx, a crash), look for the file that attempt recorded
        (``UPLOADED_FILE_ID``) in the channel, and record the row sent if it is there.
        Each step of the upload starts only while the row is still this sender's, within
        the send's budget (``_before_call``); a file this sender shared after its hold ran
        out (it stalled, and another sender took the row over) is deleted, not recorded."""
        row_id = hold.row_id
        team_id = payload.get("team_id")
        thread_ts = payload.get("thread_ts")
        earlier = payload.get(UPLOADED_FILE_ID)
        own: list[str] = []
        try:
            shared = bool(may_be_shared and earlier and self._notifier.find_file(
                channel, str(earlier), team_id=team_id, thread_ts=thread_ts, since=since,
                budget=self._lookups))
        except DeliveryError as err:
            return self._record_failure(hold, err, report, in_lookup=True)
        if shared:
            report.recovered += 1
        elif may_be_shared and earlier and self._share_may_come(payload):
            return self._await_share(hold, str(earlier), report)
        else:
            def completing(file_id: str) -> None:
                self._record_file_id(hold, file_id)
                own.append(file_id)

            try:
                content = (_draw_chart(payload["chart"]) if "chart" in payload
                           else _draw_report(self._named(payload["report"], workspace_id,
                                                         team_id))
                           if "report" in payload
                           else base64.b64decode(payload["content_b64"]))
                self._notifier.upload_file(
                    channel, str(payload["filename"]), content,
                    title=str(payload.get("title", payload["filename"])),
                    comment=payload.get("comment"), thread_ts=thread_ts, team_id=team_id,
                    on_file_id=completing, before_step=lambda: self._before_call(hold))
            except _HoldLost:
                log.warning("outbox row %s: its hold ran out before its file was shared "
                            "(this sender stalled); left to the sender that took it over",
                            row_id)
                return True
            except DeliveryError as err:
                return self._record_failure(hold, err, report)
        self._free_at[channel] = self._monotonic() + self._interval
        if not self._record_success(hold, ""):
            if own:
                self._delete_late_copy(row_id, own[-1], team_id)
            return True
        report.sent += 1
        return True

    def _record_file_id(self, hold: _Hold, file_id: str) -> None:
        """Commit the id Slack gave the file being uploaded, and when its upload is
        completed (``UPLOAD_COMPLETING_AT``), before it is (see ``_upload``), only while
        the row is still this sender's and within its budget (``_before_call``): else
        the upload stops there, its file shared nowhere."""
        self._within_budget(hold)
        with transaction(self._sessions) as session:
            row = self._held_row(session, hold)
            if row is None:
                raise _HoldLost(hold.row_id)
            row.payload = {**(row.payload or {}), UPLOADED_FILE_ID: file_id,
                           UPLOAD_COMPLETING_AT: self._clock().isoformat()}

    def _share_may_come(self, payload: dict[str, Any]) -> bool:
        """True while the share of the file an uncertain completion left may still show in
        the channel (less than ``SHARE_WAIT`` after it): Slack shares files
        asynchronously. A row recorded before the time was kept does not wait, nor does
        one whose time is more than ``SHARE_CLOCK_SLACK`` ahead of now: a wall clock since
        stepped back wrote it, and the wait would last the whole step."""
        completing = payload.get(UPLOAD_COMPLETING_AT)
        if not isinstance(completing, str):
            return False
        try:
            since = as_utc(datetime.fromisoformat(completing))
        except ValueError:
            return False
        now = self._clock()
        return since - SHARE_CLOCK_SLACK <= now < since + SHARE_WAIT

    def _await_share(self, hold: _Hold, file_id: str, report: FlushReport) -> bool:
        """Leave the upload of ``hold`` to look for its file again in
        ``SHARE_LOOK_INTERVAL``, its attempt given back; its channel waits (its order)."""
        row_id = hold.row_id
        with transaction(self._sessions) as session:
            row = self._held_row(session, hold)
            if row is None:
                return True
            row.attempts = max(0, row.attempts - 1)
            row.next_attempt_at = self._clock() + SHARE_LOOK_INTERVAL
            row.last_error = (f"its file {file_id} is not shown in the channel yet (Slack "
                              "shares files asynchronously): looking again")
        report.deferred += 1
        log.info("outbox row %s: its file %s is not shown in the channel yet; looking again "
                 "in %ss", row_id, file_id, SHARE_LOOK_INTERVAL.total_seconds())
        return False

    def _named(self, spec: dict[str, Any], workspace_id: int, team_id: str | None
               ) -> dict[str, Any]:
        """The report ``spec`` with the names Slack shows for the team members it lists
        (``users.info``, through the process's cache); a member Slack cannot name (no
        directory, an error, a rate limit) stays their id. Asked here, in the worker that
        draws the report, not while a request waits for its ack."""
        from bot.reports.monthly import people_of

        if self._directories is None:
            return spec
        directory = self._directories.for_workspace(workspace_id, team_id)
        names: dict[str, str] = {}
        for user_id in people_of(spec):
            account = directory.account(user_id)
            if account is not None and account.found and account.name:
                names[user_id] = account.name
        return {**spec, "names": names}

    def _record_success(self, hold: _Hold, ts: str, *,
                        recheck: dict[str, Any] | None = None, posted: bool = False) -> bool:
        """Record the row of ``hold`` sent as ``ts``; with ``recheck``, queue its recheck
        (``KIND_RECHECK``) in the same transaction, due ``RECHECK_DELAY`` from now.
        ``posted``: Slack took a message of it (chat.postMessage or chat.update), not only
        a file or a look-up: only that ends a pause on a token that may not post. False,
        recording nothing, when the row is no longer this sender's (``_held_row``)."""
        with transaction(self._sessions) as session:
            row = self._held_row(session, hold)
            if row is None:
                return False
            if recheck is not None:
                session.add(OutboxMessage(
                    workspace_id=row.workspace_id, kind=KIND_RECHECK, channel=row.channel,
                    payload=recheck, send_rank=RANK_FEEDBACK,
                    next_attempt_at=self._clock() + RECHECK_DELAY))
            row.status = OutboxStatus.SENT.value
            row.result_ts = ts
            row.sent_at = self._clock()
            row.last_error = None
            if row.kind == KIND_UPLOAD and "content_b64" in (row.payload or {}):
                row.payload = uploaded_payload(row.payload)
            if self._interval > 0:
                # The pace counts from Slack's answer, as a sender waiting for it would.
                push_slot(session, OutboxPace, _pace_key(row),
                          row.sent_at + timedelta(seconds=self._interval))
            if row.kind == KIND_CARD and row.mention_id:
                mention = session.get(Mention, row.mention_id)
                if mention is not None:
                    do_record_card(session, mention, row.channel, ts,
                                   routed_from=row.payload.get(ROUTED_FROM))
                    for refused in _fell_back_here(session, row):
                        do_record_card(session, mention, row.channel, ts, routed_from=refused)
            if row.workspace_id in self._pauses:
                self._resume(session, row.workspace_id, posted=posted)
        if self.token_watch is not None:
            self.token_watch.accepted()
        return True

    def _record_failure(self, hold: _Hold, err: DeliveryError, report: FlushReport, *,
                        in_lookup: bool = False) -> bool:
        """Record a refused delivery; False when the row's channel must wait for it.
        Nothing is recorded (nor told) when the row is no longer this sender's
        (``_held_row``): another sender took it over, and may have sent it.

        ``in_lookup``: ``err`` came from the look-up for an earlier attempt
        (``find_posted``), not from sending.
        """
        row_id = hold.row_id
        with transaction(self._sessions) as session:
            row = self._held_row(session, hold)
            if row is None:
                return True
            if err.pauses:
                # Not the row's fault: it keeps its attempts and waits for the token (or
                # for the scope it lacks to post).
                row.attempts = max(0, row.attempts - 1)
                row.next_attempt_at = self._clock()
                row.last_error = f"paused: {err}"
                report.paused += 1
                self._pause(session, row.workspace_id, err)
                if self.token_watch is not None and err.token_dead:
                    # Not a missing scope: Slack accepts that token (``auth.test``, what
                    # /readyz reports), it only may not post.
                    self.token_watch.refused(str(err.code))
                return False
            if err.spends_no_attempt and (
                    self._clock() - as_utc(row.created_at) < RATE_LIMIT_PATIENCE):
                # A rate-limited call did nothing: it spends no attempt (a crisis's burst of
                # 429s, each asking a second or two, would use up MAX_ATTEMPTS in under a
                # minute and lose the card); Slack's Retry-After paces the retries instead.
                row.attempts = max(0, row.attempts - 1)
            if err.retryable and row.attempts < MAX_ATTEMPTS:
                backoff = exponential(row.attempts - 1, base=BACKOFF_BASE_SECONDS,
                                      cap=BACKOFF_CAP_SECONDS)
                # Only a Retry-After Slack's rate limiter sent is taken as is when short:
                # any other hint (5 s after internal_error or a 5xx) only lengthens the
                # backoff, or minutes of outage would use up the hours of MAX_ATTEMPTS.
                delay = retry_delay(backoff, err.retry_after, floor=True,
                                    trust_up_to=BACKOFF_BASE_SECONDS if err.asked else None)
                row.next_attempt_at = self._clock() + timedelta(seconds=delay)
                # A refused look-up proves only that the look-up did nothing: the earlier
                # attempt may have posted, so the next one must look again.
                not_posted = err.nothing_posted and not in_lookup
                row.last_error = f"{NOT_POSTED if not_posted else ''}{err}"
                report.deferred += 1
                log.warning("outbox row %s will be retried in %.0fs: %s", row_id, delay, err)
                return False
            self._fail(session, row, str(err), report)
            channel_refused = err.channel_refused and row.channel[:1] in ("C", "G")
            if err.retryable and row.kind == KIND_CARD:
                self._card_given_up(session, row, err)
            elif row.kind == KIND_CARD and not channel_refused:
                self._card_refused(session, row, err)
            if channel_refused:
                self._channel_refused(session, row, str(err.code),
                                      join_refused=err.join_refused)
                if row.kind == KIND_CARD and row.mention_id is not None:
                    _fall_back(session, row, str(err.code))
            if err.threads_off and row.kind == KIND_THREAD and row.mention_id is not None:
                # The channel is rightly not flagged (its alerts arrive), so the mention's
                # history is the only place the team can learn this note never arrived.
                record(session, row.workspace_id, OUTBOX_ACTOR, THREAD_NOTE_REFUSED,
                       mention_id=row.mention_id, reason=str(err.code),
                       detail={"outbox_id": row.id, "channel": row.channel})
            return True

    def _not_known_here(self, session: Session, row: OutboxMessage, reason: str,
                        report: FlushReport) -> None:
        """Leave ``row``, which this release cannot render (``reason``), to a newer
        release's sender: it stays pending, its attempt not spent, and this sender looks
        at it again after ``NEWER_RELEASE_RECHECK``. After ``NEWER_RELEASE_GRACE`` since
        it was queued (no newer process sent it), it fails for good, saying why."""
        now = self._clock()
        if now - as_utc(row.created_at) >= NEWER_RELEASE_GRACE:
            self._not_known.pop(row.id, None)
            self._fail(session, row, f"{NEWER_RELEASE}{reason}; no process of that version "
                       "sent it within a day (upgrade every process, then `vigie outbox "
                       "retry`)", report)
            return
        self._not_known[row.id] = now + NEWER_RELEASE_RECHECK
        report.deferred += 1
        log.warning("outbox row %s left for a newer version of Vigie: %s", row.id, reason)

    def _fail(self, session: Session, row: OutboxMessage, error: str,
              report: FlushReport) -> None:
        row.status = OutboxStatus.FAILED.value
        row.last_error = error
        report.failed += 1
        report.errors.append(error)
        log.error("outbox row %s failed for good: %s", row.id, error)
        if row.kind == KIND_CARD and row.mention_id is not None:
            record(session, row.workspace_id, OUTBOX_ACTOR, "outbox.card_failed",
                   mention_id=row.mention_id, reason=error,
                   detail={"outbox_id": row.id, "channel": row.channel})
            mention = session.get(Mention, row.mention_id)
            if mention is not None:
                # It needed an alert: without a card it stays open work (the digest, App
                # Home and the SLA checks count it), and the next action posts it again.
                mention.alerted = True

    def _card_given_up(self, session: Session, row: OutboxMessage, err: DeliveryError) -> None:
        """A card's retries ran out (hours of 5xx, ``internal_error``, timeouts): nothing in
        Slack says so, so DM the workspace's admins, once a day per workspace. Its mention
        stays open work, and its next action posts the card again (``repost_lost_card``)."""
        language = workspace_language(session, row.workspace_id)
        note = Note.of(language, "outbox.card_given_up_dm", channel=row.channel,
                       error=Text(err.code or str(err)), attempts=row.attempts)
        day = self._clock().date().isoformat()
        _tell_admins(session, row.workspace_id, note,
                     f"card-given-up:{row.workspace_id}:{day}")

    def _card_refused(self, session: Session, row: OutboxMessage, err: DeliveryError) -> None:
        """Slack refused a card for good for a reason of its own (``msg_too_long``,
        ``invalid_blocks``...), not its channel's (``_channel_refused`` tells that): nothing
        in Slack says so, so DM the workspace's admins Slack's reason, as for a card whose
        retries ran out (``_card_given_up``). Once a day per workspace and reason, as a
        refused channel is told once a day: a renderer Slack refuses refuses every card,
        and hundreds of cards must not make hundreds of DMs."""
        code = err.code or str(err)
        language = workspace_language(session, row.workspace_id)
        note = Note.of(language, "outbox.card_refused_dm", channel=row.channel,
                       error=Text(code))
        day = self._clock().date().isoformat()
        _tell_admins(session, row.workspace_id, note,
                     f"card-refused:{row.workspace_id}:{code[:100]}:{day}")

    def _channel_refused(self, session: Session, row: OutboxMessage, code: str, *,
                         join_refused: str | None = None) -> None:
        """Slack refused the channel itself (archived, private without the bot...): every
        later message there would be lost too, silently. Record it (``watch list`` flags
        the channel's watches from it) and DM the workspace's admins, once per channel a
        day. ``join_refused``: a file refused in a channel the bot is not in, which Slack
        then refused to let it join (``SlackNotifier.upload_file``): its messages arrive,
        its files do not, and the DM says how to let the bot in."""
        workspace_id, channel = row.workspace_id, row.channel
        record(session, workspace_id, OUTBOX_ACTOR, CHANNEL_REFUSED, reason=code,
               detail={"outbox_id": row.id, "channel": channel})
        own = sorted(session.scalars(select(Watch.name).where(
            Watch.workspace_id == workspace_id, Watch.channel_id == channel)))
        routes = _routes_to(session, workspace_id, channel)
        names = sorted(set(own) | {name for name, _topic in routes})
        language = workspace_language(session, workspace_id)
        day = self._clock().date().isoformat()
        if join_refused is not None:
            _tell_admins(session, workspace_id,
                         Note.of(language, "outbox.files_refused_dm", channel=channel,
                                 error=Text(join_refused)),
                         f"channel-refused:{workspace_id}:{channel}:{day}")
            return
        note = (Note.of(language, "outbox.channel_refused_dm", channel=channel,
                        error=Text(code), watches=Text(", ".join(names))) if names else
                Note.of(language, "outbox.channel_refused_dm_other", channel=channel,
                        error=Text(code)))
        note = note.then(advice_key(code), fix=Text(_fix(language, own, routes)))
        _tell_admins(session, workspace_id, note,
                     f"channel-refused:{workspace_id}:{channel}:{day}")

    def _pause(self, session: Session, workspace_id: int, err: DeliveryError) -> None:
        """Start or extend the pause of ``workspace_id`` (inside the caller's transaction)."""
        self._unanswered.discard(workspace_id)  # Slack answered: it refused the token
        now = self._clock()
        pause = session.get(OutboxPause, workspace_id, with_for_update=True)
        if pause is None:
            pause = OutboxPause(workspace_id=workspace_id, error=str(err.code), detail=str(err),
                                paused_at=now, probes=0, last_probe_at=now,
                                next_probe_at=now + timedelta(seconds=PROBE_BASE_SECONDS))
            try:
                with session.begin_nested():
                    session.add(pause)
            except IntegrityError:  # another sender paused it a moment ago
                pause = session.get(OutboxPause, workspace_id, with_for_update=True,
                                    populate_existing=True)
            else:
                waiting = session.scalar(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.workspace_id == workspace_id,
                    OutboxMessage.status == OutboxStatus.PENDING.value))
                team = session.scalar(select(Workspace.team_id).where(
                    Workspace.id == workspace_id))
                record(session, workspace_id, OUTBOX_ACTOR, "outbox.paused", reason=str(err),
                       detail={"error": err.code, "needed": err.needed})
                if err.posting_refused:
                    log.error("Slack does not let the bot of workspace %s post messages (%s, "
                              "needed: %s): its outbox is paused with %s messages waiting. "
                              "Reinstall the app with the scopes of manifest.yml; delivery "
                              "resumes by itself once a message goes through (see `vigie "
                              "doctor`).", team, err.code, err.needed or "?", waiting)
                else:
                    log.error("Slack refused the bot token of workspace %s (%s): its outbox "
                              "is paused with %s messages waiting. Reinstall the app or set "
                              "a new SLACK_BOT_TOKEN; delivery resumes by itself once the "
                              "token works (see `vigie doctor`).", team, err.code, waiting)
                self._pauses[workspace_id] = pause.next_probe_at
                return
            if pause is None:
                return
        pause.probes += 1
        pause.last_probe_at = now
        pause.error, pause.detail = str(err.code), str(err)
        delay = exponential(pause.probes, base=PROBE_BASE_SECONDS, cap=PROBE_CAP_SECONDS,
                            max_exponent=16)
        pause.next_probe_at = now + timedelta(seconds=delay)
        self._pauses[workspace_id] = pause.next_probe_at
        log.info("Slack still refuses the outbox of workspace %s (%s): next try in %.0fs",
                 workspace_id, err.code, delay)

    def _resume(self, session: Session, workspace_id: int, *, posted: bool) -> None:
        """End the pause of ``workspace_id`` after a delivery went through (or Slack
        accepted its token, ``_check_token``); tell its admins.
        A pause on a token that may not post (POSTING_REFUSED) ends only with a message
        posted or updated (``posted``): a file shared proves nothing of ``chat:write``. The
        pause then stays, its probe due: the workspace's next row is tried at the next
        flush."""
        self._unanswered.discard(workspace_id)
        pause = session.get(OutboxPause, workspace_id, with_for_update=True)
        if pause is None:
            self._pauses.pop(workspace_id, None)
            return  # another sender resumed it
        if pause.error in POSTING_REFUSED and not posted:
            return
        if session.scalar(select(Workspace.uninstalled_at).where(
                Workspace.id == workspace_id)) is not None:
            # Marked uninstalled while this row was out (``do_uninstalled``): the pause
            # stays with the mark, both ended by an install only.
            return
        self._pauses.pop(workspace_id, None)
        now = self._clock()
        paused_at, error = pause.paused_at, pause.error
        session.delete(pause)
        session.flush()
        skipped = 0
        if error in DEAD_TOKEN_PAUSES:
            # As at a reinstall (``installs.do_reinstalled``): the SLA checks skipped the
            # workspace while its token was refused (``reach``); after days out of reach,
            # the deadlines that passed meanwhile must not all be announced now.
            from bot.services.sla import skip_stale_breaches

            timezone = session.scalar(select(Workspace.timezone).where(
                Workspace.id == workspace_id))
            skipped = skip_stale_breaches(session, workspace_id, as_utc(paused_at), now,
                                          timezone or self._default_timezone)
        waiting = int(session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.workspace_id == workspace_id,
            OutboxMessage.status == OutboxStatus.PENDING.value)) or 0)
        record(session, workspace_id, OUTBOX_ACTOR, "outbox.resumed", reason=error,
               detail={"paused_at": paused_at.isoformat(), "waiting": waiting,
                       "skipped_sla_breaches": skipped})
        log.warning("workspace %s: Slack takes its messages again; the outbox paused since "
                    "%s (%s) resumed with %d messages waiting", workspace_id,
                    paused_at.isoformat(timespec="seconds"), error, waiting)
        language = workspace_language(session, workspace_id)
        key = "outbox.posting_resumed_dm" if error in POSTING_REFUSED else "outbox.resumed_dm"
        note = Note.of(language, key, since=Date(paused_at), until=Date(now),
                       error=Text(error), waiting=waiting)
        _tell_admins(session, workspace_id, note,
                     f"outbox-resumed:{workspace_id}:{paused_at.isoformat()}")


def _fall_back(session: Session, row: OutboxMessage, code: str) -> None:
    """Slack refused a card's channel for good: when a topic route sent it there, queue it
    in the routing watches' own channels instead (``route_fallbacks``), each with a note in
    its thread saying which route failed and why, so the work is seen where the watch's
    alerts go. Where the mention's card is already (another watch alerts there), posted or
    on its way, that card is the routing watches' card too, with the same note. The refused
    card remembers where it went (``FELL_BACK_TO``): later actions update the card there and
    do not queue it again in the refused channel (``repost_lost_card``). The admins' DM
    about the channel still goes (``_channel_refused``)."""
    assert row.mention_id is not None
    mention = session.get(Mention, row.mention_id)
    language = workspace_language(session, row.workspace_id)
    went: list[str] = []
    for channel in route_fallbacks(session, row.mention_id, row.channel):
        key = card_dedupe_key(row.mention_id, channel)
        card = do_enqueue(session, workspace_id=row.workspace_id, kind=KIND_CARD,
                          channel=channel, mention_id=row.mention_id,
                          payload={ROUTED_FROM: row.channel}, dedupe_key=key)
        if card is None:
            card = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
            if card is None or card.status == OutboxStatus.FAILED.value:
                continue  # the mention's card was refused in that channel too
            ts = card_ts(session, mention, channel) if mention is not None else None
            if mention is not None and ts is not None:
                # Posted already: the routing watches' links get it now (a card on its way
                # gets them when it posts, ``_fell_back_here``).
                do_record_card(session, mention, channel, ts, routed_from=row.channel)
        went.append(channel)
        record(session, row.workspace_id, OUTBOX_ACTOR, ROUTE_FALLBACK,
               mention_id=row.mention_id, reason=code,
               detail={"outbox_id": card.id, "channel": channel, "refused": row.channel})
        note = Note.of(language, "outbox.note_route_refused", channel=row.channel,
                       error=Text(code)).then(advice_key(code), fix=Text(_fix(
                           language, [], _routes_to(session, row.workspace_id, row.channel))))
        do_enqueue(session, workspace_id=row.workspace_id, kind=KIND_THREAD, channel=channel,
                   mention_id=row.mention_id, every_card=False, payload=spec_payload(note))
    if went:
        row.payload = {**row.payload, FELL_BACK_TO: went}


def _routes_to(session: Session, workspace_id: int, channel: str) -> list[tuple[str, str]]:
    """The topic routes sending alerts to ``channel``: (watch name, topic), in order."""
    return [(name, topic) for name, topic in session.execute(
        select(Watch.name, TopicRoute.topic).join(TopicRoute, TopicRoute.watch_id == Watch.id)
        .where(TopicRoute.workspace_id == workspace_id, TopicRoute.channel_id == channel)
        .order_by(Watch.name, TopicRoute.id))]


def _fix(language: str, own: list[str], routes: list[tuple[str, str]]) -> str:
    """How to send a refused channel's alerts elsewhere: move the watch whose own channel
    it is, else change the topic route that sends them there (``NAME``, ``TOPIC`` where
    several do), else pick another channel."""
    if own:
        return fix_text(language, watch=own[0] if len(own) == 1 else "NAME")
    if routes:
        name, topic = routes[0] if len(routes) == 1 else ("NAME", "TOPIC")
        return fix_text(language, watch=name, topic=topic)
    return fix_text(language)


def _fell_back_here(session: Session, card: OutboxMessage) -> list[str]:
    """The route channels whose refused card of the mention fell back to ``card``'s channel
    (``FELL_BACK_TO``) and that ``card`` did not name itself (``ROUTED_FROM``): the card
    that just posted there is their watches' card too."""
    refused = session.scalars(select(OutboxMessage).where(
        OutboxMessage.mention_id == card.mention_id, OutboxMessage.kind == KIND_CARD,
        OutboxMessage.status == OutboxStatus.FAILED.value).order_by(OutboxMessage.id))
    return list(dict.fromkeys(
        other.channel for other in refused
        if card.channel in other.payload.get(FELL_BACK_TO, ())
        and other.channel != card.payload.get(ROUTED_FROM)))


def refused_channels(session: Session, workspace_id: int) -> dict[str, tuple[datetime, str]]:
    """The channels Slack refuses Vigie's messages in -> (since when, Slack's reason):
    those with a channel refusal after their last message that went through."""
    refusals: dict[str, list[tuple[datetime, str]]] = {}
    for at, reason, detail in session.execute(
            select(AuditEvent.created_at, AuditEvent.reason, AuditEvent.detail).where(
                AuditEvent.workspace_id == workspace_id, AuditEvent.action == CHANNEL_REFUSED)
            .order_by(AuditEvent.id.desc()).limit(500)):
        channel = (detail or {}).get("channel")
        if channel:
            refusals.setdefault(str(channel), []).append((at, reason or "?"))
    refused: dict[str, tuple[datetime, str]] = {}
    for channel, events in refusals.items():
        last_sent = session.scalar(select(func.max(OutboxMessage.sent_at)).where(
            OutboxMessage.workspace_id == workspace_id, OutboxMessage.channel == channel,
            OutboxMessage.status == OutboxStatus.SENT.value))
        since = [event for event in events if last_sent is None or event[0] > last_sent]
        if since:
            refused[channel] = (since[-1][0], since[0][1])  # first refusal, latest reason
    return refused


def card_ts(session: Session, mention: Mention, channel: str) -> str | None:
    """The ts of the mention's card in ``channel`` (None while it is not posted there)."""
    if mention.slack_channel == channel and mention.slack_ts:
        return mention.slack_ts
    return posted_card(session, mention.id, channel)


def card_channels(session: Session, mention_id: int) -> list[str]:
    """The channels the mention's cards are posted in or on their way to, the first card's
    channel first."""
    mention = session.get(Mention, mention_id)
    posted = [channel for channel, _ts in other_cards(session, mention_id)]
    queued = session.scalars(select(OutboxMessage.channel).where(
        OutboxMessage.mention_id == mention_id, OutboxMessage.kind == KIND_CARD,
        OutboxMessage.status == OutboxStatus.PENDING.value).order_by(OutboxMessage.id))
    first = [mention.slack_channel] if mention is not None and mention.slack_channel else []
    return list(dict.fromkeys([*first, *posted, *queued]))


def card_on_its_way(session: Session, row: OutboxMessage) -> bool:
    """True while the card that ``row`` waits for (the mention's card in the row's
    channel) may still be posted."""
    if row.mention_id is None:
        return False
    mention = session.get(Mention, row.mention_id)
    if mention is None:
        return False
    return card_ts(session, mention, row.channel) is not None or session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.mention_id == row.mention_id, OutboxMessage.kind == KIND_CARD,
            OutboxMessage.channel == row.channel,
            OutboxMessage.status == OutboxStatus.PENDING.value).limit(1)) is not None


def repost_lost_card(session: Session, mention: Mention) -> list[int]:
    """Inside the caller's transaction: queue again each card of the mention Slack refused
    for good (and that is neither posted nor on its way in its channel), with the notes
    that failed waiting for it.

    Each card row is requeued in its own channel (a mention has one card per channel:
    its watches' and topic routes' channels), rendering the mention's current state at
    send time, then its channel's thread notes in their order, then a note in that
    thread saying the card was posted again. A card refused in a topic route's channel
    that fell back to its watch's channel (``_fall_back``: queued there, or the card
    already there) is not while the card there stands: it lives there now, and updates
    reach it there. Returns the ids of the rows requeued (none when no card was lost).
    """
    cards = session.scalars(select(OutboxMessage).where(
        OutboxMessage.mention_id == mention.id, OutboxMessage.kind == KIND_CARD)
        .order_by(OutboxMessage.id.desc())).all()
    latest: dict[str, OutboxMessage] = {}
    pending: set[str] = set()
    fell_back: set[str] = set()
    for card in cards:
        latest.setdefault(card.channel, card)
        if card.status == OutboxStatus.PENDING.value:
            pending.add(card.channel)
        if card.status != OutboxStatus.FAILED.value and card.payload.get(ROUTED_FROM):
            fell_back.add(str(card.payload[ROUTED_FROM]))
    for card in latest.values():
        # Refused where its route sent it, it fell back to where the card stands (queued
        # there for it, or there already for another watch).
        if card.status == OutboxStatus.FAILED.value and any(
                channel in pending or card_ts(session, mention, channel) is not None
                for channel in card.payload.get(FELL_BACK_TO, ())):
            fell_back.add(card.channel)
    requeued: list[int] = []
    for channel, card in sorted(latest.items()):
        if (card.status != OutboxStatus.FAILED.value or channel in pending
                or channel in fell_back or card_ts(session, mention, channel) is not None):
            # A route channel whose card fell back to the watch's channel (posted there, or
            # on its way): the card lives there now, and every action would otherwise try
            # the refused channel again, failing and writing its refusal each time.
            continue
        requeued.extend(_repost(session, mention, card))
    return requeued


def retarget_refused_cards(session: Session, workspace_id: int, watch_id: int, old: str,
                           new: str) -> int:
    """Inside the caller's transaction, once watch ``watch_id`` alerts in ``new`` instead of
    ``old``: send to ``new`` the watch's cards Slack refused in ``old`` because of the
    channel (archived, deleted...), and those still waiting for ``old`` while Slack refuses
    it, each with the notes that wait for it. Returns how many cards were re-targeted.

    A mention has one card per channel (``card_dedupe_key``), so a card moves whole: its
    row takes the new channel and key, and the notes that failed or wait for it follow.
    Left alone: a card posted in ``old`` (it stays there, with its thread), a card another
    of the mention's watches still alerts with in ``old`` (theirs too), and a mention with
    a card in ``new`` already (that card is the watch's now). A card leased by a sender
    this moment is left to it (it fails, and ``vigie outbox retry`` sends it to ``new``)."""
    refused_ids = {(detail or {}).get("outbox_id") for detail in session.scalars(
        select(AuditEvent.detail).where(AuditEvent.workspace_id == workspace_id,
                                        AuditEvent.action == CHANNEL_REFUSED))
        if (detail or {}).get("channel") == old}
    waiting_ok = old in refused_channels(session, workspace_id)
    now = utcnow()
    cards = session.scalars(select(OutboxMessage).where(
        OutboxMessage.workspace_id == workspace_id, OutboxMessage.channel == old,
        OutboxMessage.kind == KIND_CARD,
        OutboxMessage.status.in_((OutboxStatus.FAILED.value, OutboxStatus.PENDING.value)),
        OutboxMessage.mention_id.in_(select(MentionWatch.mention_id).where(
            MentionWatch.watch_id == watch_id)))
        .order_by(OutboxMessage.id).with_for_update()).all()
    moved = 0
    for card in cards:
        if card.status == OutboxStatus.FAILED.value:
            if card.id not in refused_ids:
                continue  # refused for a reason of its own (msg_too_long...): not the channel
        elif not waiting_ok or as_utc(card.next_attempt_at) > now:
            continue
        assert card.mention_id is not None
        mention = session.get(Mention, card.mention_id)
        new_key = card_dedupe_key(card.mention_id, new)
        if (mention is None or card_ts(session, mention, old) is not None
                or alerting_in(session, card.mention_id, old)
                or session.scalar(select(OutboxMessage.id).where(
                    OutboxMessage.dedupe_key == new_key)) is not None):
            continue
        notes = session.scalars(select(OutboxMessage).where(
            OutboxMessage.mention_id == card.mention_id, OutboxMessage.channel == old,
            OutboxMessage.kind.in_((KIND_THREAD, KIND_UPDATE_CARD)), OutboxMessage.id > card.id,
            OutboxMessage.status.in_((OutboxStatus.FAILED.value, OutboxStatus.PENDING.value)))
            .with_for_update()).all()
        for row in notes:
            if row.status == OutboxStatus.PENDING.value or (
                    row.last_error or "").startswith(CARD_LOST):
                row.channel = new
        card.channel, card.dedupe_key = new, new_key
        if card.status == OutboxStatus.FAILED.value:
            _repost(session, mention, card)
        else:
            card.attempts = 0
        moved += 1
    return moved


def _repost(session: Session, mention: Mention, card: OutboxMessage) -> list[int]:
    refused = card.last_error or "?"
    waiting = session.scalars(select(OutboxMessage).where(
        OutboxMessage.mention_id == mention.id, OutboxMessage.channel == card.channel,
        OutboxMessage.kind.in_((KIND_THREAD, KIND_UPDATE_CARD)),
        OutboxMessage.status == OutboxStatus.FAILED.value,
        OutboxMessage.last_error.startswith(CARD_LOST, autoescape=True),
        OutboxMessage.id > card.id).order_by(OutboxMessage.id)).all()
    now = utcnow()
    for row in (card, *waiting):
        row.status = OutboxStatus.PENDING.value
        row.attempts = 0
        row.next_attempt_at = now
        # After their card again, as a note queued now would be (``send_rank``).
        row.send_rank = max(row.send_rank, card.send_rank)
    record(session, mention.workspace_id, OUTBOX_ACTOR, "outbox.card_reposted",
           mention_id=mention.id, reason=refused,
           detail={"outbox_id": card.id, "channel": card.channel, "notes": len(waiting)})
    language = workspace_language(session, mention.workspace_id)
    do_enqueue(session, workspace_id=mention.workspace_id, kind=KIND_THREAD,
               channel=card.channel, mention_id=mention.id, every_card=False,
               payload=spec_payload(Note.of(language, "outbox.note_card_reposted",
                                            error=Text(refused))))
    return [card.id, *(row.id for row in waiting)]


def uploaded_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """An upload's payload once Slack has the file: its name, title and comment, the
    file's size (``size_bytes``) and Slack's id for it (``UPLOADED_FILE_ID``), without the
    file itself (``content_b64``, an export's whole CSV: megabytes per export, in every
    backup). Nothing reads it again: a sent row
    is never sent again, and the file is the requester's in Slack."""
    kept = {key: value for key, value in payload.items() if key != "content_b64"}
    content = payload.get("content_b64")
    if isinstance(content, str):
        kept["size_bytes"] = len(content) * 3 // 4 - content[-2:].count("=")
    return kept


def _ts_order(ts: str) -> tuple[int, ...]:
    """A Slack ts (``seconds.micros``) as a sortable key; a float would round its digits."""
    return tuple(int(part) for part in ts.split(".") if part.isdigit())


def _unrenderable(err: Exception) -> str:
    log.exception("outbox: a message could not be rendered")
    return f"the message could not be rendered: {type(err).__name__}: {err}"[:500]


def _draw_chart(spec: Any) -> bytes:
    from bot.reports.charts import render_chart_spec

    try:
        return render_chart_spec(spec)
    except Exception as err:  # any failure to draw fails the row with its reason
        raise DeliveryError(f"the chart could not be drawn: {type(err).__name__}: {err}"
                            ) from err


def _draw_report(spec: Any) -> bytes:
    from bot.reports.monthly import render_pdf

    try:
        return render_pdf(spec)
    except Exception as err:  # any failure to draw fails the row with its reason
        raise DeliveryError(f"the report could not be drawn: {type(err).__name__}: {err}"
                            ) from err
