"""What Vigie posted in Slack about the mentions a forget deletes, beyond their cards.

``bot.services.privacy.do_forget`` replaces each card of the person's mentions; the other
messages that quote them or name them are found here, in the outbox, before the mentions
go (the outbox rows of a mention cascade with it, and with them where their messages are):

- the messages of their mentions (a note in a card's thread: follow-ups, workflow and SLA
  notes; an SLA notice sent to an approver's DM) and the notification DMs about them
  (assigned, approved...; the approval digest names the mentions it listed) and their
  conquest opportunity cards: each posted one is replaced with the notice (``chat.update``:
  the bot's own messages, in a channel or in its DM with a user);
- the cards of others' mentions whose story names their posts are rendered again, and the
  App Homes (which list open work) are published again;
- the messages that quote them without belonging to them (a follow-up note of theirs in the
  thread of someone else's case, a spike alert's examples and loudest authors, a digest's
  lines, what waited for it and top authors): a note is replaced with the notice, a spike
  alert or a digest is posted again without their lines (the rest still holds). Their
  stored payload is rewritten the same way, and one still waiting to be sent, or given up
  (``vigie outbox retry`` may send it yet), is rewritten (or dropped, for a note) before it
  goes: Vigie never sends their words or name again. A rewrite that still names them
  (``_names``: someone else's line quoting them) is not sent: dropped, or, once posted,
  replaced with the notice;
- the copies the outbox keeps of files and reports: an export's CSV loses their lines and
  a monthly report its line about them among the influencers, uploaded or not (a file
  shared cannot be recalled from Slack, but Vigie's copy no longer holds them);
- any other row without a mention since their first that still names them (``@handle``,
  their handle or one of their authors' as a value, one of their posts or links;
  ``_names``), whatever its kind: one not sent is dropped, one sent keeps only where its
  message is (``ts``). Rows are JSON, so this is read, not guessed: a name written
  otherwise (their display name alone) is not found. Who is forgotten by a feed byline
  alone (``Admin``) is found by their authors' whole handles (``Admin@blog.example``).

Retention deletes these rows once sent before its window (``outbox_retention``).

The redactions are outbox rows without a mention id, so they survive the deletion.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Select, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from bot.i18n import t
from bot.messages.digest import AuthorData, DigestSpec, MentionData, WaitedData
from bot.messages.notes import Note, Text, Who
from bot.messages.spikes import SpikeAlertSpec
from bot.messages.stored import payload_spec, spec_payload
from bot.services import forgotten, stories
from bot.services.notifications import APPROVAL_DIGEST, KIND_NOTIFY, mark_homes_stale
from bot.services.opportunities import opportunity_dedupe_key
from bot.services.outbox import (
    KIND_CARD,
    KIND_CHART,
    KIND_OPPORTUNITY,
    KIND_POST,
    KIND_REDACT,
    KIND_THREAD,
    KIND_UPDATE_CARD,
    KIND_UPDATE_POST,
    KIND_UPLOAD,
    do_enqueue,
)
from bot.services.outbox_retention import stored_kinds
from storage.models import Author, Mention, OutboxMessage, OutboxStatus
from storage.models_competitors import Opportunity
from storage.models_notifications import NotificationState

OWN_KINDS = (KIND_THREAD, KIND_POST)
"""Kinds of a mention's own rows (its mention id set) that leave a message of their own in
Slack; its card (``card``, ``update_card``) is replaced by ``do_forget`` itself."""
QUOTING_KINDS = (KIND_POST, KIND_THREAD, KIND_UPDATE_POST)
"""Kinds of the rows whose stored spec (a note, a spike alert, a digest) may quote anyone."""
UNQUOTING_KINDS = (KIND_CARD, KIND_UPDATE_CARD, KIND_REDACT, KIND_UPLOAD)
"""Kinds whose payload holds no one's words: cards are rendered from the database when
sent (and a mention's go with it), a redaction holds the notice; an export's file is
scrubbed line by line (``_scrub_export``)."""


@dataclass(frozen=True, slots=True)
class ForgottenPerson:
    """The person being forgotten, as the messages about them may show them."""

    handle: str
    author_ids: tuple[int, ...]
    mention_ids: frozenset[int]
    texts: frozenset[str]
    urls: frozenset[str]
    since: datetime | None
    """When the first of their mentions was stored: no message quotes them before."""
    handles: frozenset[str] = frozenset()
    """Their authors' handles as stored (``normalized_handle``): who is forgotten by a
    byline alone (``Admin``) is shown by the whole of it (``Admin@blog.example``)."""

    @classmethod
    def read(cls, session: Session, workspace_id: int, author_ids: list[int],
             handle: str) -> ForgottenPerson:
        """Their mentions, read before they are deleted."""
        rows = session.execute(select(Mention.id, Mention.text, Mention.title, Mention.url,
                                      Mention.created_at).where(
            Mention.workspace_id == workspace_id, Mention.author_id.in_(author_ids))).all()
        texts = {value for row in rows for value in (row.text, row.title) if value}
        handles = session.scalars(select(Author.handle).where(Author.id.in_(author_ids)))
        return cls(handle, tuple(author_ids), frozenset(row.id for row in rows),
                   frozenset(texts),
                   frozenset(row.url for row in rows if row.url),
                   min((row.created_at for row in rows), default=None),
                   frozenset(forgotten.normalized_handle(value) for value in handles if value))

    def mentions(self, workspace_id: int) -> Select[tuple[int]]:
        """Their mentions' ids, as a subquery (an author may have thousands: no list of
        bound parameters)."""
        return select(Mention.id).where(Mention.workspace_id == workspace_id,
                                        Mention.author_id.in_(self.author_ids))

    @property
    def names(self) -> frozenset[str]:
        """Every name a message may show them by (``normalized_handle``): the handle they
        were forgotten by and their authors' handles."""
        return (self.handles | {forgotten.normalized_handle(self.handle)}) - {""}

    def named(self, name: str | None) -> bool:
        """Whether ``name`` (an author shown in a message) is theirs."""
        return bool(name) and forgotten.normalized_handle(str(name)) in self.names


def redact_messages(session: Session, workspace_id: int, person: ForgottenPerson,
                    language: str, done: set[tuple[str, str]]) -> None:
    """Inside ``do_forget``'s transaction, before their mentions are deleted: replace or
    rewrite every message Vigie posted (or will post) that quotes or names ``person``.
    ``done``: the (channel, ts) already replaced (their cards); grows with each one."""
    if not person.mention_ids:
        return
    ids = person.mentions(workspace_id)
    # Someone else's card names the posts of its story, theirs among them: rendered again
    # (at send time, once they are gone). Updates of their own cards go with them.
    stories.do_refresh_story_cards(session, ids)
    # App Homes list open work, theirs included: published again.
    mark_homes_stale(session, workspace_id, list(session.scalars(
        select(NotificationState.user_id).where(
            NotificationState.workspace_id == workspace_id))))
    for row, mention_id in _own_messages(session, workspace_id, person, ids):
        _redact(session, workspace_id, row.channel, str(row.result_ts),
                _notice(language, mention_id), done)
    if person.since is None:
        return
    # The rows this forget queued (the replacements) come after: none of them is checked.
    queued_before = session.scalar(select(func.max(OutboxMessage.id))) or 0
    # An export's CSV and a monthly report's influencers, whatever became of them: a file
    # shared cannot be recalled, but the copy the outbox keeps loses their lines.
    for row in session.scalars(select(OutboxMessage).where(
            OutboxMessage.workspace_id == workspace_id, OutboxMessage.kind == KIND_UPLOAD,
            OutboxMessage.created_at >= person.since).order_by(OutboxMessage.id)):
        _scrub_export(row, person)
    for row in session.scalars(select(OutboxMessage).where(
            OutboxMessage.workspace_id == workspace_id, OutboxMessage.kind == KIND_CHART,
            OutboxMessage.created_at >= person.since).order_by(OutboxMessage.id)):
        _scrub_report(row, person)
    # Read from their first mention on through (workspace_id, kind, created_at): sent rows
    # are kept, and the rows without a mention of these kinds (SQLite took the mention
    # index for them) are every spike alert, digest and note ever sent. Put in order
    # here: SQLite scanned the whole outbox in id order rather than sort them.
    # Failed rows too: ``vigie outbox retry`` may send them yet, and they keep the text.
    no_mention = func.coalesce(OutboxMessage.mention_id, OutboxMessage.mention_id).is_(None)
    quoting = session.scalars(select(OutboxMessage).where(
        OutboxMessage.workspace_id == workspace_id, no_mention,
        OutboxMessage.kind.in_(QUOTING_KINDS),
        OutboxMessage.created_at >= person.since)).all()
    for row in sorted(quoting, key=lambda r: r.id):
        _scrub(session, workspace_id, row, person, language, done)
    # Whatever still names them (a kind or a field the rewrites above do not know) loses
    # what it said: the rows without a mention since their first, of every kind but those
    # that store no one's words (see UNQUOTING_KINDS). The rows this forget queued are left
    # out here, not in SQL: SQLite read ``id <=`` as a scan of the whole table.
    kinds = [kind for kind in stored_kinds(session, workspace_id)
             if kind not in UNQUOTING_KINDS]
    left = session.scalars(select(OutboxMessage).where(
        OutboxMessage.workspace_id == workspace_id, no_mention,
        OutboxMessage.kind.in_(kinds), OutboxMessage.created_at >= person.since)).all()
    for row in sorted(left, key=lambda r: r.id):
        if row.id <= queued_before and _names(row.payload, person):
            _forget_payload(session, row)


def _own_messages(session: Session, workspace_id: int, person: ForgottenPerson,
                  ids: Select[tuple[int]]) -> Iterable[tuple[OutboxMessage, int | None]]:
    """The posted messages of their mentions, of the DMs about them and of their
    opportunity cards, with the mention each one is about."""
    opportunities = dict(session.execute(select(Opportunity.id, Opportunity.mention_id).where(
        Opportunity.mention_id.in_(ids))).tuples().all())
    keys = {opportunity_dedupe_key(opportunity_id): mention_id
            for opportunity_id, mention_id in opportunities.items()}
    posted = and_(OutboxMessage.workspace_id == workspace_id,
                  OutboxMessage.status == OutboxStatus.SENT.value,
                  OutboxMessage.result_ts.is_not(None), OutboxMessage.result_ts != "")
    kinds = [and_(OutboxMessage.mention_id.in_(ids), OutboxMessage.kind.in_(OWN_KINDS))]
    if keys:
        kinds.append(and_(OutboxMessage.kind == KIND_OPPORTUNITY,
                          OutboxMessage.dedupe_key.in_(sorted(keys))))
    for row in session.scalars(select(OutboxMessage).where(posted, or_(*kinds))
                               .order_by(OutboxMessage.id)):
        yield row, row.mention_id if row.mention_id is not None else keys.get(
            row.dedupe_key or "")
    if person.since is None:
        return
    # A DM names its mention in its payload (the approval digest: the mentions it listed).
    for row in session.scalars(select(OutboxMessage).where(
            posted, OutboxMessage.kind == KIND_NOTIFY,
            OutboxMessage.created_at >= person.since).order_by(OutboxMessage.id)):
        shown = _notified(row)
        theirs = sorted(shown & person.mention_ids)
        if theirs:
            yield row, theirs[0] if row.payload.get("event") != APPROVAL_DIGEST else None


def _notified(row: OutboxMessage) -> set[int]:
    """The mentions a notification DM showed."""
    payload = row.payload or {}
    shown = [payload.get("mention_id"), *(payload.get("mention_ids") or [])]
    return {value for value in shown if isinstance(value, int)}


def _scrub(session: Session, workspace_id: int, row: OutboxMessage, person: ForgottenPerson,
           language: str, done: set[tuple[str, str]]) -> None:
    """Rewrite ``row`` without ``person`` if its spec quotes them; its message in Slack,
    when posted, is replaced accordingly."""
    try:
        spec = payload_spec(row.payload or {})
    except Exception:  # noqa: BLE001  (the sender fails such a row: nothing to rewrite)
        return
    posted = row.status == OutboxStatus.SENT.value and bool(row.result_ts)
    target = str(row.payload.get("ts") or row.result_ts or "")
    if isinstance(spec, Note):
        if not _note_quotes(spec, person):
            return
        if not posted:
            session.execute(delete(OutboxMessage).where(OutboxMessage.id == row.id))
            return
        notice = _notice(language, _note_mention(spec, person))
        row.payload = _notice_payload(notice)
        _redact(session, workspace_id, row.channel, target, notice, done)
        return
    scrubbed: SpikeAlertSpec | DigestSpec | None = None
    if isinstance(spec, SpikeAlertSpec):
        scrubbed = _spike_without(spec, person)
    elif isinstance(spec, DigestSpec):
        scrubbed = _digest_without(spec, person)
    if scrubbed is None or scrubbed == spec:
        return
    if _names(spec_payload(scrubbed), person):
        # Still naming them where the rewrite does not look: not sent again, nor at all;
        # a posted one, which showed their lines, is replaced with the notice.
        if not posted:
            session.execute(delete(OutboxMessage).where(OutboxMessage.id == row.id))
            return
        notice = _notice(language, None)
        row.payload = _notice_payload(notice)
        _redact(session, workspace_id, row.channel, target, notice, done)
        return
    kept = {key: value for key, value in row.payload.items()
            if key in ("ts", "thread_ts")}
    row.payload = {**spec_payload(scrubbed), **kept}
    if posted and target:
        # The message again, without them: its other lines still hold.
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPDATE_POST,
                   channel=row.channel, payload={**spec_payload(scrubbed), "ts": target})


def _scrub_export(row: OutboxMessage, person: ForgottenPerson) -> None:
    """A CSV export not uploaded yet (``bot.services.export``) without their mentions'
    lines: once uploaded it cannot be recalled (the file is the requester's)."""
    payload = dict(row.payload or {})
    try:
        content = base64.b64decode(str(payload["content_b64"])).decode("utf-8-sig")
    except (KeyError, ValueError):
        return  # not an export's CSV: nothing of theirs Vigie can read in it
    ids = {str(mention_id) for mention_id in person.mention_ids}
    records = list(csv.reader(io.StringIO(content, newline="")))
    kept = [record for n, record in enumerate(records)
            if n == 0 or not record or record[0] not in ids]
    if len(kept) == len(records):
        return
    out = io.StringIO(newline="")
    csv.writer(out).writerows(kept)
    payload["content_b64"] = base64.b64encode(
        out.getvalue().encode("utf-8-sig")).decode("ascii")
    row.payload = payload


def _scrub_report(row: OutboxMessage, person: ForgottenPerson) -> None:
    """A monthly report's spec (drawn when sent) without them among its influencers."""
    payload = dict(row.payload or {})
    report = payload.get("report")
    if not isinstance(report, dict) or not isinstance(report.get("influencers"), list):
        return
    kept = [item for item in report["influencers"] if not (
        isinstance(item, dict) and (item.get("author_id") in person.author_ids
                                    or person.named(item.get("handle"))))]
    if len(kept) == len(report["influencers"]):
        return
    payload["report"] = {**report, "influencers": kept}
    row.payload = payload


MIN_QUOTE = 20
"""How long one of their texts must be to count as quoted inside a longer string (a
shorter one must be a whole value: "ok" is in every message)."""


def _names(value: object, person: ForgottenPerson) -> bool:
    """Whether a stored payload (any JSON) shows their name, handle, post or link: a value
    that is their handle (``@`` or not), an ``@handle`` in a text, one of their texts or
    links in it."""
    if isinstance(value, dict):
        return any(_names(item, person) for item in value.values())
    if isinstance(value, list):
        return any(_names(item, person) for item in value)
    if not isinstance(value, str) or not value:
        return False
    if person.named(value) or value in person.texts:
        return True
    if any(url in value for url in person.urls) or any(
            len(text) >= MIN_QUOTE and text in value for text in person.texts):
        return True
    # ``@handle`` in a text; a stored ``byline@site`` (or ``@name@instance``) is theirs
    # written anywhere, ``@`` or not.
    return any(re.search(rf"(?<![\w@]){'@?' if '@' in name else '@'}{re.escape(name)}"
                         r"(?![\w])", value, re.IGNORECASE) is not None
               for name in person.names)


def _forget_payload(session: Session, row: OutboxMessage) -> None:
    """A row whose payload still names them: one waiting or failed is not sent (deleted);
    one sent keeps only where its message is (``ts``), which updates may still need."""
    if row.status != OutboxStatus.SENT.value:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id == row.id))
        return
    row.payload = {key: value for key, value in (row.payload or {}).items()
                   if key in ("ts", "thread_ts")}


def _note_quotes(note: Note, person: ForgottenPerson) -> bool:
    for phrase in note.phrases:
        for _name, arg in phrase.args:
            value = arg.value if isinstance(arg, Text) else arg.name if isinstance(
                arg, Who) else None
            if value and (person.named(value) or value in person.texts):
                return True
    return False


def _note_mention(note: Note, person: ForgottenPerson) -> int | None:
    """The mention of theirs a note names by id, if any."""
    for phrase in note.phrases:
        for _name, arg in phrase.args:
            if isinstance(arg, int) and arg in person.mention_ids:
                return arg
    return None


def _spike_without(spec: SpikeAlertSpec, person: ForgottenPerson) -> SpikeAlertSpec:
    """The alert without their posts (examples, links), name, and the terms drawn from
    their words (a term any of their posts holds: their words are not shown, even
    counted)."""
    words = [text.lower() for text in person.texts]
    return replace(
        spec,
        terms=tuple(term for term in spec.terms
                    if not any(term[0].lower() in text for text in words)),
        links=tuple(link for link in spec.links
                    if link[0] not in person.urls and not person.named(link[0])),
        samples=tuple(s for s in spec.samples
                      if not person.named(s.author) and s.url not in person.urls
                      and s.text not in person.texts
                      and s.mention_id not in person.mention_ids),
        authors=tuple(a for a in spec.authors if not person.named(a[0])))


def _digest_without(spec: DigestSpec, person: ForgottenPerson) -> DigestSpec:
    """The digest without their lines (overdue, highest priorities, what waited) and
    without them among the top authors."""
    def kept(line: MentionData) -> bool:
        return line.id not in person.mention_ids and not person.named(line.author)

    def kept_author(author: AuthorData) -> bool:
        return not person.named(author.handle)

    def waited(group: WaitedData) -> WaitedData | None:
        examples = tuple(filter(kept, group.examples))
        if len(examples) == len(group.examples):
            return group
        if not examples:
            return None
        # The watch's count shown above its examples loses theirs.
        gone = len(group.examples) - len(examples)
        return replace(group, examples=examples,
                       count=max(group.count - gone, len(examples)))

    report = spec.report
    return replace(spec, report=replace(
        report, overdue=tuple(filter(kept, report.overdue)),
        top_priority=tuple(filter(kept, report.top_priority)),
        top_authors=tuple(filter(kept_author, report.top_authors)),
        waited=tuple(group for group in map(waited, report.waited) if group is not None)))


def _notice(language: str, mention_id: int | None) -> str:
    if mention_id is None:
        return t(language, "privacy.redacted_message")
    return t(language, "privacy.redacted", id=mention_id)


def _notice_payload(text: str) -> dict[str, object]:
    return {"text": text, "blocks": [{"type": "section",
                                      "text": {"type": "mrkdwn", "text": text}}]}


def _redact(session: Session, workspace_id: int, channel: str, ts: str, text: str,
            done: set[tuple[str, str]]) -> None:
    """Queue the replacement of message ``ts`` in ``channel`` (a user id: the bot's DM with
    them) by ``text``, once per message."""
    if not ts or (channel, ts) in done:
        return
    done.add((channel, ts))
    do_enqueue(session, workspace_id=workspace_id, kind=KIND_REDACT, channel=channel,
               payload={"ts": ts, **_notice_payload(text)})
