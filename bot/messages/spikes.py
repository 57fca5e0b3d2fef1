"""A spike alert as typed data: what ``bot.services.spikes`` detected and explained, rendered
by ``bot.slack.spike_blocks`` when the outbox sends it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.analysis.spike_explain import SpikeExplanation
from bot.analysis.spikes import SpikeDecision
from bot.i18n import t


def spike_kind(kind: str, language: str) -> str:
    """What stood out in a spike (its stored ``kind``), in ``language``: the alert, the
    digest and the monthly report word it alike."""
    key = {"volume": "volume", "negative_share": "negative"}.get(kind, "both")
    return t(language, f"spike.kind_{key}")


@dataclass(frozen=True, slots=True)
class SpikeFigures:
    """A spike the detection stored, as the daily digest and the monthly report show it:
    the watch, the hour, what stood out, and the hour's mentions and negative share
    against their usual level (each reader's renderer words them in its language)."""

    watch: str
    hour_start: datetime
    kind: str
    total: int
    baseline: float
    negative_share: float
    baseline_negative_share: float


@dataclass(frozen=True, slots=True)
class SpikeSample:
    """An example post of the spike."""

    author: str
    text: str
    url: str | None
    mention_id: int | None = None
    """The stored mention it shows (None in alerts queued before alerts kept it): the
    alert's refresh checks by it, through the primary key, that the post is still stored."""


@dataclass(frozen=True, slots=True)
class SpikeWatchFigures:
    """One watch's mentions in an hour and its negative share, against their usual level."""

    watch: str
    total: int
    baseline: float
    negative_share: float
    baseline_negative_share: float


STAGE_ALERT = "alert"
"""The first message of an event, at the top level of the channel."""
STAGE_UPDATE = "update"
"""A complete hour of the event that was still a spike, in the alert's thread."""
STAGE_OVER = "over"
"""The event is over, in the alert's thread."""
STAGE_STOPPED = "stopped"
"""The event is closed because no active brand watch follows its channel any more, in the
alert's thread."""


@dataclass(frozen=True, slots=True)
class SpikeAlertSpec:
    """What a spike alert shows: the watch, the numbers, the terms, links and negative
    authors that explain it, and a few examples; or, for its thread (``stage``), the
    figures of an hour of the event (``watches``) or how it ended."""

    language: str
    watch: str
    kind: str
    total: int
    baseline: float
    negative_share: float
    baseline_negative_share: float
    terms: tuple[tuple[str, int], ...] = ()
    links: tuple[tuple[str, int], ...] = ()
    authors: tuple[tuple[str, int | None], ...] = ()
    """Negative authors: handle and followers (None when unknown)."""
    samples: tuple[SpikeSample, ...] = ()
    hour_start: datetime | None = None
    """The hour the figures count (None in alerts queued before alerts named it)."""
    counted_until: datetime | None = None
    """When the count was taken, while the hour was not over (None: the whole hour)."""
    zone: str = "UTC"
    """The workspace's time zone, in which the hour is shown."""
    stage: str = STAGE_ALERT
    watches: tuple[SpikeWatchFigures, ...] = ()
    """The alert: the other watches of the channel that spiked in the same hour. An update:
    each watch's figures in ``hour_start``. Over: each watch's figures in the hour that
    was back to usual (``hour_start``)."""
    peak: SpikeWatchFigures | None = None
    """Over: the watch and figures of the event's largest hour (``peak_hour``)."""
    peak_hour: datetime | None = None
    first_hour: datetime | None = None
    """Over: the event's first spike hour. An alert brought up to date with a later hour
    (``hour_start``): when the event began."""
    last_hour: datetime | None = None
    """Over: the event's last spike hour."""

    @classmethod
    def of(cls, watch: str, decision: SpikeDecision, explanation: SpikeExplanation,
           language: str, *, now: datetime, zone: str,
           others: tuple[SpikeWatchFigures, ...] = ()) -> SpikeAlertSpec:
        """The alert of ``decision`` on ``watch``, explained by ``explanation``, counted at
        ``now`` and shown in ``zone``; ``others`` spiked in the same hour and channel."""
        end = decision.start + timedelta(hours=1)
        return cls(
            hour_start=decision.start, counted_until=now if now < end else None, zone=zone,
            language=language, watch=watch, kind=decision.kind, total=decision.total,
            baseline=decision.baseline, negative_share=decision.negative_share,
            baseline_negative_share=decision.baseline_negative_share,
            terms=tuple((term.term, term.count) for term in explanation.terms),
            links=tuple((item.url, item.count) for item in explanation.links),
            authors=tuple((a.handle, a.followers) for a in explanation.negative_authors),
            samples=tuple(SpikeSample(s.author, s.text, s.url, _mention_id(s.mention_id))
                          for s in explanation.samples),
            watches=others)


def spike_to_json(spec: SpikeAlertSpec) -> dict[str, Any]:
    """The alert as JSON for an outbox row's payload."""
    return {"language": spec.language, "watch": spec.watch, "kind": spec.kind,
            "total": spec.total, "baseline": spec.baseline,
            "negative_share": spec.negative_share,
            "baseline_negative_share": spec.baseline_negative_share,
            "terms": [list(pair) for pair in spec.terms],
            "links": [list(pair) for pair in spec.links],
            "authors": [list(pair) for pair in spec.authors],
            "samples": [[s.author, s.text, s.url] for s in spec.samples],
            # Beside the samples, not in them: a worker of an older version, during a
            # deploy, still reads the samples of a payload a newer one queued.
            "sample_ids": [s.mention_id for s in spec.samples],
            "hour_start": _moment_json(spec.hour_start),
            "counted_until": _moment_json(spec.counted_until), "zone": spec.zone,
            "stage": spec.stage, "watches": [_figures_json(w) for w in spec.watches],
            "peak": _figures_json(spec.peak) if spec.peak else None,
            "peak_hour": _moment_json(spec.peak_hour),
            "first_hour": _moment_json(spec.first_hour),
            "last_hour": _moment_json(spec.last_hour)}


def _mention_id(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _figures_json(figures: SpikeWatchFigures) -> list[Any]:
    return [figures.watch, figures.total, figures.baseline, figures.negative_share,
            figures.baseline_negative_share]


def _figures(data: list[Any]) -> SpikeWatchFigures:
    watch, total, baseline, share, base_share = data
    return SpikeWatchFigures(str(watch), int(total), float(baseline), float(share),
                             float(base_share))


def _moment_json(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _moment(text: Any) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None


def spike_from_json(data: dict[str, Any]) -> SpikeAlertSpec:
    """The alert stored by ``spike_to_json``."""
    samples = data["samples"]
    ids = data.get("sample_ids") or []
    if len(ids) != len(samples):  # queued before alerts kept them
        ids = [None] * len(samples)
    return SpikeAlertSpec(
        language=str(data["language"]), watch=str(data["watch"]), kind=str(data["kind"]),
        total=int(data["total"]), baseline=float(data["baseline"]),
        negative_share=float(data["negative_share"]),
        baseline_negative_share=float(data["baseline_negative_share"]),
        terms=tuple((str(term), int(count)) for term, count in data["terms"]),
        links=tuple((str(url), int(count)) for url, count in data["links"]),
        authors=tuple((str(handle), followers) for handle, followers in data["authors"]),
        samples=tuple(SpikeSample(str(author), str(text), url,
                                  int(mention_id) if mention_id is not None else None)
                      for (author, text, url), mention_id in zip(samples, ids, strict=True)),
        hour_start=_moment(data.get("hour_start")),
        counted_until=_moment(data.get("counted_until")), zone=str(data.get("zone") or "UTC"),
        stage=str(data.get("stage") or STAGE_ALERT),
        watches=tuple(_figures(item) for item in data.get("watches") or ()),
        peak=_figures(data["peak"]) if data.get("peak") else None,
        peak_hour=_moment(data.get("peak_hour")), first_hour=_moment(data.get("first_hour")),
        last_hour=_moment(data.get("last_hour")))
