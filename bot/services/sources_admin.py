"""Managing a watch's sources: add (validated, SSRF-checked), list with health, test, remove."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import t
from bot.messages.notes import NetworkName
from bot.net.errors import SourceConfigError, SourceError
from bot.net.netguard import validate_public_url
from bot.networks import resolve_network
from bot.services import backfill, forgotten
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import NotFound, ServiceError, source_error
from bot.services.ingest import Candidate, IngestReport, match_and_analyze
from bot.services.permissions import require_role
from bot.services.polling import HttpFactory, fetch_source, snapshot
from bot.services.secrets import (
    open_config,
    redact,
    redact_for_row,
    seal_config,
    secret_fields,
    secret_values,
)
from bot.services.watches import get_watch_by_name
from bot.sources.base import SourceConfig
from bot.sources.registry import (
    POLLABLE_KINDS,
    REQUIRED,
    SOURCES,
    describe_config,
    get_source,
    parse_config,
)
from bot.sources.rss import RssConfig, network_owner
from bot.sources.webhook import WebhookSource
from bot.url_secrets import mask_url
from storage.db import transaction
from storage.models import Role, SourceRow, Watch, utcnow
from storage.secret_box import SecretBox

MIN_INTERVAL = timedelta(minutes=1)
MAX_INTERVAL = timedelta(days=1)
MASK = "••••••"
SOURCE_TEST_BUDGET = 30.0
"""Seconds a `source test` may fetch for (it holds a listener thread meanwhile)."""
URL_SUFFIXES = ("url", "_base")
"""Settings holding an address a fetch will use (``feed_url``, Reddit's ``api_base``...)."""


@dataclass(frozen=True, slots=True)
class SourceView:
    """A source as listed to users, with its health."""

    id: int
    kind: str
    watch_name: str
    settings: dict[str, str]
    interval_minutes: int
    paused: bool
    trusted: bool
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    next_poll_at: datetime
    new_secret: str | None = None
    """Set once, when Vigie generated the webhook secret: show it to the user."""
    backfilled: int | None = None
    """Posts its first poll (since added or resumed) stored quietly; None before it."""
    backfill_hours: int | None = None
    last_error_reasons: tuple[tuple[str, dict[str, str | int]], ...] = ()
    """``last_error`` as catalogue reasons (``source_error.KEY`` and its parameters), to
    word it for the reader; empty when it has none."""

    def backfill_note(self, language: str = "en") -> str | None:
        """What the quiet backfill did, in ``language`` (the catalogue's
        ``admin.source_backfilled``, as `/cm source list` says it); None before the first
        poll."""
        if self.backfilled is None:
            return None
        return t(language, "admin.source_backfilled", count=self.backfilled,
                 hours=self.backfill_hours)

    @property
    def waiting_for_database(self) -> bool:
        """Whether its last poll (or push) the database could not store, for a passing
        reason, while that does not count as its failure yet (``polling.BUSY_GRACE``):
        neither failing nor healthy, its posts wait for the database."""
        return not self.consecutive_failures and any(
            key in ("database_busy", "database_busy_push") for key, _ in self.last_error_reasons)

    @property
    def polled(self) -> bool:
        """False for sources that only receive (webhooks): they have no poll interval."""
        return self.kind in POLLABLE_KINDS


@dataclass(frozen=True, slots=True)
class SourceTestResult:
    """What one test fetch would store."""

    fetched: int
    candidates: list[Candidate]
    report: IngestReport
    not_modified: bool


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One setting of a source kind, as help shows it (the words come from the catalogue,
    ``source_setting.KIND.NAME``)."""

    name: str
    required: bool
    default: str | None
    """What it is when left out; None when there is nothing to show (required, a secret,
    empty)."""


def setting_specs(kind: str | None = None) -> dict[str, list[SettingSpec]]:
    """The settings of ``kind`` (of every kind when None), read from the sources' config
    models; ServiceError ``source.bad_kind`` for a kind that does not exist."""
    if kind is None:
        kinds = list(SOURCES)
    else:
        try:
            kinds = [get_source(kind).kind]
        except SourceConfigError as err:
            raise ServiceError("source.bad_kind", error=source_error(err)) from None
    specs: dict[str, list[SettingSpec]] = {}
    for name in kinds:
        specs[name] = []
        for field, type_name, default, _ in describe_config(name):
            shown: str | None = default
            if default in (REQUIRED, "none", "") or type_name.startswith("secret"):
                shown = None
            elif default in ("True", "False"):
                shown = default.lower()  # as it is typed: local_only=true
            # do_add_source generates a webhook's secret when none is given.
            generated = name == WebhookSource.kind and field == "secret"
            specs[name].append(SettingSpec(field, default == REQUIRED and not generated, shown))
    return specs


def config_for_storage(config: SourceConfig) -> dict[str, Any]:
    """The config as JSON, with secrets' real values (``seal_config`` encrypts them)."""
    data: dict[str, Any] = config.model_dump(mode="json")
    for name in type(config).model_fields:
        value = getattr(config, name)
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
    return data


def masked_settings(kind: str, config: dict[str, Any]) -> dict[str, str]:
    """The settings of a decrypted ``config`` to display: secrets masked, so are a URL's
    credentials (``mask_url``), long values shortened. A value still encrypted (no key
    opens it) is shown masked."""
    model = get_source(kind).config_model
    shown: dict[str, str] = {}
    for name, info in model.model_fields.items():
        if name not in config or config[name] in (None, "", [], {}):
            continue
        is_secret = "SecretStr" in str(info.annotation) or SecretBox.is_sealed(config[name])
        shown[name] = MASK if is_secret else mask_url(str(config[name]))[:200]
    return shown


def _view(row: SourceRow, watch_name: str, new_secret: str | None = None,
          backfilled: tuple[int, int | None, bool] | None = None) -> SourceView:
    done = backfilled is not None and not backfilled[2]
    return SourceView(
        backfilled=backfilled[0] if done and backfilled else None,
        backfill_hours=backfilled[1] if done and backfilled else None,
        id=row.id, kind=row.kind, watch_name=watch_name,
        settings=masked_settings(row.kind, open_config(row)),
        interval_minutes=row.interval_seconds // 60, paused=row.paused, trusted=row.trusted,
        last_success_at=row.last_success_at, last_error=redact_for_row(row.last_error, row),
        last_error_at=row.last_error_at, consecutive_failures=row.consecutive_failures,
        next_poll_at=row.next_poll_at, new_secret=new_secret,
        last_error_reasons=_reasons(row),
    )


def _reasons(row: SourceRow) -> tuple[tuple[str, dict[str, str | int]], ...]:
    """The row's stored error reasons, secrets masked again (a key may have changed)."""
    reasons = []
    for item in row.last_error_reasons or ():
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], dict)):
            continue  # not written by record_failure: the English message stands
        reasons.append((item[0], {
            name: (redact_for_row(value, row) or "") if isinstance(value, str) else value
            for name, value in item[1].items() if isinstance(value, str | int)}))
    return tuple(reasons)


def _check_urls(values: dict[str, Any], allow_hosts: list[str]) -> dict[str, Any]:
    checked = dict(values)
    for name, value in values.items():
        if name.lower().endswith(URL_SUFFIXES) and isinstance(value, str) and value:
            try:
                checked[name] = validate_public_url(value, allow_hosts)
            except SourceConfigError as err:
                # The allowlist only helps a host refused for its address, not a typo.
                key = ("source.private_url" if (err.key or "").startswith("blocked.")
                       else "source.unsafe_url")
                raise ServiceError(key, field=name, error=source_error(err)) from None
    return checked


def _interval(minutes: int | None, default: timedelta) -> timedelta:
    """The poll interval asked for (``default`` when none); ServiceError when out of range."""
    if minutes is None:
        return default
    # Compared in seconds before making a timedelta: a huge number of minutes overflows it.
    if not MIN_INTERVAL.total_seconds() <= minutes * 60 <= MAX_INTERVAL.total_seconds():
        raise ServiceError("source.bad_interval", value=str(minutes))
    return timedelta(minutes=minutes)


def do_add_source(
    sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *, kind: str,
    watch_name: str, values: dict[str, Any], interval_minutes: int | None = None,
    allow_hosts: list[str] | None = None,
) -> SourceView:
    """Add a source to a watch. URLs from Slack users are checked against the SSRF guard;
    a webhook without a secret gets a generated one (returned once in ``new_secret``)."""
    try:
        source_cls = get_source(kind)
    except SourceConfigError as err:
        raise ServiceError("source.bad_kind", error=source_error(err)) from None
    if actor.user_id:
        # Before the URL check: a viewer must not probe internal DNS names through it.
        with sessions() as session:
            require_role(session, workspace_id, actor, Role.ADMIN)
    new_secret = None
    if source_cls.kind == "webhook" and not values.get("secret"):
        new_secret = secrets.token_urlsafe(32)
        values = {**values, "secret": new_secret}
    if not actor.trusted:
        values = _check_urls(values, allow_hosts or [])
    try:
        config = parse_config(source_cls.kind, values)
    except SourceConfigError as err:
        raise ServiceError("source.bad_config", kind=source_cls.kind,
                           error=source_error(err)) from None
    _check_own_label(config)
    interval = _interval(interval_minutes, source_cls.default_interval)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        # Locked: two admins adding the same feed at once must not both pass the check.
        watch = get_watch_by_name(session, workspace_id, watch_name, lock=True)
        plain = config_for_storage(config)
        same = _same_source(session, watch.id, source_cls.kind, plain)
        if same is not None:
            raise ServiceError("source.exists", id=str(same), watch=watch.name)
        row = SourceRow(workspace_id=workspace_id, watch_id=watch.id, kind=source_cls.kind,
                        config=seal_config(session, source_cls.kind, plain),
                        interval_seconds=int(interval.total_seconds()),
                        trusted=actor.trusted, created_by=actor.user_id, next_poll_at=utcnow())
        session.add(row)
        session.flush()
        record(session, workspace_id, actor, "source.added",
               detail={"source_id": row.id, "kind": row.kind, "watch": watch.name,
                       "settings": masked_settings(row.kind, plain)})
        return _view(row, watch.name, new_secret)


def _check_own_label(config: SourceConfig) -> None:
    """A feed's label may not be another source's network: its entries (authors as the
    feed writes them) would be taken for that network's (see ``bot.sources.rss``)."""
    if isinstance(config, RssConfig) and (owner := network_owner(config.network)):
        network = resolve_network(owner)
        raise ServiceError("source.network_taken", kind="rss", label=config.network,
                           network=NetworkName(network.name if network else owner))


def _same_source(session: Session, watch_id: int, kind: str, stored: dict[str, Any]
                 ) -> int | None:
    """The id of the watch's source of ``kind`` with the same settings (secrets aside: a
    token does not make the same feed another source), or None. Webhooks are pushed to,
    each by its own sender: two are never the same. Stored configs are compared
    decrypted (a URL with credentials is stored encrypted, never twice the same)."""
    if kind not in POLLABLE_KINDS:
        return None
    hidden = set(secret_fields(kind))

    def shown(config: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in config.items() if k not in hidden and v not in (None, "")}

    wanted = shown(stored)
    for row in session.scalars(select(SourceRow).where(
            SourceRow.watch_id == watch_id, SourceRow.kind == kind).order_by(SourceRow.id)):
        if shown(open_config(row) if row.config else {}) == wanted:
            return row.id
    return None


def _get(session: Session, workspace_id: int, source_id: int) -> tuple[SourceRow, Watch]:
    row = session.get(SourceRow, source_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound("source.not_found", id=str(source_id))
    return row, row.watch


def list_sources(sessions: sessionmaker[Session], workspace_id: int,
                 watch_name: str | None = None) -> list[SourceView]:
    """Every source of the workspace (or of one watch) with its health."""
    with sessions() as session:
        query = (select(SourceRow, Watch.name).join(Watch, Watch.id == SourceRow.watch_id)
                 .where(SourceRow.workspace_id == workspace_id).order_by(SourceRow.id))
        if watch_name:
            query = query.where(Watch.id == get_watch_by_name(session, workspace_id,
                                                              watch_name).id)
        rows = session.execute(query).all()
        counts = backfill.backfilled_counts(session, [row.id for row, _ in rows])
        return [_view(row, name, backfilled=counts.get(row.id)) for row, name in rows]


def do_remove_source(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                     source_id: int) -> None:
    """Delete a source (its mentions stay)."""
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        row, watch = _get(session, workspace_id, source_id)
        record(session, workspace_id, actor, "source.removed",
               detail={"source_id": row.id, "kind": row.kind, "watch": watch.name})
        session.delete(row)


def do_set_source_paused(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                         source_id: int, paused: bool) -> None:
    """Stop or restart polling one source."""
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        row, _ = _get(session, workspace_id, source_id)
        if row.paused and not paused:
            backfill.mark_resumed(session, [row.id])
        row.paused = paused
        if not paused:
            row.next_poll_at = utcnow()
        record(session, workspace_id, actor, "source.paused" if paused else "source.resumed",
               detail={"source_id": row.id})


def test_source(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                source_id: int, http_factory: HttpFactory) -> SourceTestResult:
    """Fetch once now and say what would be stored; stores nothing, moves no cursor.
    The posts of forgotten authors are left out (counted in ``report.forgotten``).

    Admins only, like adding a source: a test holds a listener thread for up to
    SOURCE_TEST_BUDGET seconds and fetches an address of the admin's choosing.
    """
    with sessions() as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        row, watch = _get(session, workspace_id, source_id)
        if row.kind not in POLLABLE_KINDS:  # a webhook is pushed to: nothing to fetch
            raise ServiceError("source.test_pushed", id=str(source_id))
        # From scratch, not from the cursor: show what the source yields today.
        claimed = replace(snapshot(row, watch.name), cursor={})
        session.expunge(watch)
    try:
        result = fetch_source(claimed, http_factory, budget=SOURCE_TEST_BUDGET)
    except SourceError as err:
        hidden = secret_values(claimed.kind, claimed.config)
        raise ServiceError("source.test_failed", id=str(source_id),
                           error=source_error(err, lambda text: redact(text, hidden) or text)
                           ) from None
    report = IngestReport(received=len(result.mentions))
    with sessions() as session:
        # Never shown, as never stored: the posts of an author forgotten at their request.
        try:
            mentions, report.forgotten = forgotten.drop_forgotten(session, workspace_id,
                                                                  result.mentions)
        except SourceConfigError as err:
            raise ServiceError("source.test_failed", id=str(source_id),
                               error=source_error(err)) from None
    candidates = match_and_analyze(watch, mentions, now=utcnow(), report=report)
    return SourceTestResult(len(result.mentions), candidates, report, result.not_modified)
