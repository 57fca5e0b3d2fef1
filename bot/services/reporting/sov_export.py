"""Share of voice as a file: one row per group, watch and network (``all`` for every
network together), with the period's figures, shares and the previous period's, as CSV
(`/cm export sov`, `vigie stats --sov --format csv`) or JSON Lines."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import t, tally
from bot.services.actors import Actor
from bot.services.errors import ServiceError
from bot.services.export import csv_safe
from bot.services.outbox import KIND_UPLOAD, do_enqueue
from bot.services.reporting.share_of_voice import METRICS, SovReport, SovShare, get_share_of_voice
from storage.db import transaction

ALL_NETWORKS = "all"
SOV_COLUMNS = (
    "group", "watch", "kind", "network", "start", "end", "previous_start",
    *METRICS, *(f"{m}_share" for m in METRICS), *(f"previous_{m}" for m in METRICS),
    *(f"previous_{m}_share" for m in METRICS), *(f"{m}_trend_points" for m in METRICS),
    "group_opportunities",
)
FORMATS = ("csv", "jsonl")


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _row(report: SovReport, member: SovShare, network: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "group": report.group, "watch": member.watch, "kind": member.kind, "network": network,
        "start": report.start.isoformat(), "end": report.end.isoformat(),
        "previous_start": report.previous_start.isoformat()}
    for metric in METRICS:
        row[metric] = getattr(member.current, metric)
        row[f"{metric}_share"] = _share(member.share[metric])
        row[f"previous_{metric}"] = getattr(member.previous, metric)
        row[f"previous_{metric}_share"] = _share(member.previous_share[metric])
        row[f"{metric}_trend_points"] = member.trend(metric)
    row["group_opportunities"] = report.opportunities
    return row


def sov_records(reports: Iterable[SovReport]) -> Iterator[dict[str, Any]]:
    """Each group's members over all networks, then per network."""
    for report in reports:
        for member in report.members:
            yield _row(report, member, ALL_NETWORKS)
        for network, members in sorted(report.by_network.items()):
            for member in members:
                yield _row(report, member, network)


def write_sov(reports: Iterable[SovReport], out: TextIO, fmt: str = "csv") -> int:
    """Write the rows as CSV (with a header) or JSON Lines; returns how many."""
    if fmt not in FORMATS:
        raise ServiceError("export.bad_format", value=fmt, valid=", ".join(FORMATS))
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(SOV_COLUMNS)
        for record in sov_records(reports):
            writer.writerow([csv_safe("" if record[c] is None else record[c])
                             for c in SOV_COLUMNS])
            count += 1
        return count
    for record in sov_records(reports):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def do_export_sov_to_slack(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                           *, channel_id: str, period: str | None, group: str | None,
                           now: datetime, language: str, default_timezone: str = "UTC") -> int:
    """`/cm export sov [period] [group]`: upload the share-of-voice CSV to ``channel_id``
    (the requester's DM) through the outbox; returns its rows."""
    days, _zone, reports = get_share_of_voice(sessions, workspace_id, actor, period=period,
                                              now=now, group=group,
                                              default_timezone=default_timezone)
    buffer = io.StringIO()
    rows = write_sov(reports, buffer)
    filename = f"vigie-share-of-voice-{days}d-{now.date().isoformat()}.csv"
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPLOAD, channel=channel_id,
                   payload={"filename": filename,
                            "content_b64": base64.b64encode(
                                buffer.getvalue().encode("utf-8-sig")).decode("ascii"),
                            "title": filename,
                            "comment": t(language, "sov.export_comment",
                                         rows=tally(rows, language),
                                         groups=tally(len(reports), language))})
    return rows
