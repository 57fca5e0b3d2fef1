"""Draw the monthly report (``bot.services.reporting.monthly.report_spec``) as PDF or HTML.

Pure: the spec in, bytes or text out. The PDF is written by matplotlib's own PDF backend
(``PdfPages``), one A4 page per part; its text can be searched and copied. The HTML is one
self-contained page (charts as inline PNG), every value escaped. matplotlib is imported
only when a report is drawn.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import day_month, digits, has, number, percent, t, tally
from bot.link_labels import label_use, link_host, shown_host
from bot.messages.spikes import spike_kind

A4_INCHES = (8.27, 11.69)
COLORS = {"negative": "#d64545", "neutral": "#9aa5b1", "positive": "#2f9e44",
          "unknown": "#d9dde3"}
SENTIMENTS = ("negative", "neutral", "positive", "unknown")
ACCENT = "#4c6ef5"
TEXT_WIDTH = 95
"""Characters per line of wrapped text on an A4 page at the body font size."""
MAX_POST_CHARS = 140
RC: dict[Any, Any] = {"pdf.fonttype": 3, "font.size": 9, "text.parse_math": False}
"""Type 3 fonts (matplotlib's default: the text stays searchable, and the file is written
2.6 times faster than with embedded TrueType subsets); "$" in a post is text, never
mathtext."""


def _language(spec: Mapping[str, Any]) -> str:
    return str(spec.get("language") or "en")


SOV_MEMBERS = 8
"""Watches shown per group: a report line stays readable."""


def _percent(value: float | None, language: str) -> str:
    return t(language, "monthly.none") if value is None else percent(value, language)


def _points(value: float | None, language: str) -> str:
    return "–" if value is None else digits(f"{value:+.1f}", language)


def _sov_lines(groups: Sequence[Mapping[str, Any]], lang: str) -> list[str]:
    """Per group: one line of shares of mentions (and their change in points), one of
    shares of the negative mentions, and the opportunities when the group has conquest."""
    lines: list[str] = []
    for group in groups:
        members = group["members"][:SOV_MEMBERS]
        lines.append(_cut(t(lang, "monthly.sov_line", group=group["group"],
                            total=tally(group["total"], lang),
                            members=", ".join(
                                t(lang, "monthly.sov_member", watch=m["watch"],
                                  share=_percent(m["share"], lang),
                                  trend=_points(m["trend"], lang))
                                for m in members)), 300))
        lines.append(_cut(t(lang, "monthly.sov_negative", members=", ".join(
            f"{m['watch']} {_percent(m['negative_share'], lang)}" for m in members)), 300))
        if group["opportunities"] is not None:
            lines.append(t(lang, "monthly.sov_opportunities",
                           count=tally(group["opportunities"], lang)))
    return lines


def _duration(seconds: float | None, language: str) -> str:
    if seconds is None:
        return t(language, "monthly.none")
    minutes = seconds / 60
    if minutes < 90:
        return t(language, "monthly.minutes", value=f"{minutes:.0f}")
    hours = minutes / 60
    if hours < 48:
        return t(language, "monthly.hours", value=digits(f"{hours:.1f}", language))
    return t(language, "monthly.days", value=digits(f"{hours / 24:.1f}", language))


def _day(value: str, zone: str, language: str, *, clock: bool = False) -> str:
    """``06 Dec`` (``06 Dec 14:00`` with ``clock``) of an ISO time in ``zone``, the month in
    ``language``."""
    return day_month(datetime.fromisoformat(value).astimezone(ZoneInfo(zone)), language,
                     clock=clock)


def _clip(value: str, limit: int) -> str:
    return _cut(" ".join(str(value).split()), limit)


def _cut(value: str, limit: int) -> str:
    # Not _clip: its split() would turn the French narrow no-break spaces into plain ones.
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _change(current: int, previous: int, language: str) -> str:
    if not previous:
        return t(language, "monthly.none") if not current else "+∞"
    rounded = f"{(current - previous) / previous * 100:+.0f}"
    return t(language, "number.percent", value=rounded[0] + tally(int(rounded[1:]), language))


def _count(value: int | None, language: str) -> str:
    """A count in ``language`` (``tally``), ``?`` when unknown."""
    return "?" if value is None else tally(value, language)


def _spike_line(spike: Mapping[str, Any], zone: str, language: str) -> str:
    """When (in the report's ``zone``), which watch, what stood out, and the hour's numbers
    against their usual level, worded as the daily digest words them."""
    when = _day(spike["hour_start"], zone, language, clock=True)
    if "baseline" not in spike:
        # A report queued before spikes carried their numbers: only the detector's sentence.
        return t(language, "monthly.spike_line_stored", when=when, watch=spike["watch"],
                 total=tally(spike["total"], language), summary=_clip(spike["summary"], 160))
    return t(language, "monthly.spike_line", when=when, watch=spike["watch"],
             kind=spike_kind(spike["kind"], language), total=tally(spike["total"], language),
             baseline=number(spike["baseline"], language, decimals=1),
             share=percent(spike["negative_share"], language),
             base_share=percent(spike["baseline_negative_share"], language))


def _trend(item: Mapping[str, Any], language: str) -> str:
    return t(language, f"influencers.trend_{item.get('trend', 'unknown')}")


def text_sections(spec: Mapping[str, Any]) -> list[tuple[str, str, list[str]]]:
    """The report's words, section by section (key, title, lines): both renderers print
    them."""
    lang = _language(spec)
    sentiment = spec["by_sentiment"]
    responses, sla = spec["responses"], spec["sla"]
    answered_share = responses.get("answered_share")
    sections: list[tuple[str, str, list[str]]] = []
    volume = [t(lang, "monthly.volume_line", total=tally(spec["total"], lang),
                change=_change(spec["total"], spec["previous_total"], lang),
                previous=tally(spec["previous_total"], lang)),
              t(lang, "monthly.sentiment_line",
                **{k: tally(sentiment.get(k, 0), lang) for k in SENTIMENTS})]
    if spec["by_network"]:
        volume.append(t(lang, "monthly.networks_line", networks=", ".join(
            f"{name} {tally(count, lang)}" for name, count in spec["by_network"])))
    if not spec["total"]:
        volume.insert(0, t(lang, "monthly.empty", month=spec["month"]))
    sections.append(("volume", t(lang, "monthly.section_volume"), volume))
    sections.append(("responses", t(lang, "monthly.section_responses"), [
        t(lang, "monthly.responses_line", actionable=tally(responses["actionable"], lang),
          answered=tally(responses["answered"], lang), share=_percent(answered_share, lang),
          gap=_percent(None if answered_share is None else 1 - answered_share, lang)),
        t(lang, "monthly.percentiles_line", median=_duration(responses["median_seconds"], lang),
          p90=_duration(responses["p90_seconds"], lang)),
        t(lang, "monthly.sla_line", share=_percent(sla.get("share"), lang),
          on_time=tally(sla["on_time"], lang), answered=tally(sla["answered"], lang))]))
    if spec.get("share_of_voice") is not None:
        sections.append(("sov", t(lang, "monthly.section_sov"),
                         _sov_lines(spec["share_of_voice"], lang)))
    sections.append(("spikes", t(lang, "monthly.section_spikes"),
                     [_spike_line(s, spec["timezone"], lang) for s in spec["spikes"]]
                     or [t(lang, "monthly.no_spikes")]))
    influencer_lines = []
    for rank, item in enumerate(spec["influencers"], 1):
        influencer_lines.append(
            f"{rank}. {item['handle']} ({item['network']}) · {_count(item['followers'], lang)} · "
            f"{tally(item['mentions'], lang)} · {tally(item['engagement'], lang)} · "
            f"{_trend(item, lang)}"
            + (f" · {t(lang, 'monthly.col_tracked')}" if item["tracked"] else ""))
        influencer_lines += ["    " + t(lang, "monthly.labelled",
                                       label=_day(p["published_at"], spec["timezone"], lang),
                                       value=_clip(p["text"], MAX_POST_CHARS))
                             for p in item["last_posts"]]
    sections.append(("influencers", t(lang, "monthly.section_influencers"),
                     influencer_lines or [t(lang, "monthly.no_influencers")]))
    sections.append(("topics", t(lang, "monthly.section_topics"), [
        t(lang, "monthly.labelled", label=topic_name(name, lang), value=tally(count, lang))
        for name, count in spec["topics"]]
        or [t(lang, "monthly.no_topics")]))
    workload = [t(lang, "monthly.labelled", label=person(spec, w["user_id"]), value=(
        f"{t(lang, 'monthly.col_assigned')} {tally(w['assigned'], lang)} · "
        f"{t(lang, 'monthly.col_open')} {tally(w['open'], lang)} · "
        f"{t(lang, 'monthly.col_answered')} {tally(w['answered'], lang)}"))
        for w in spec["workload"]]
    if spec["approvals"]:
        workload.append(t(lang, "monthly.approvals_line", lines=", ".join(
            t(lang, "monthly.approval_item", user=person(spec, a["user_id"]),
              approved=tally(a["approved"], lang), rejected=tally(a["rejected"], lang))
            for a in spec["approvals"])))
    sections.append(("workload", t(lang, "monthly.section_workload"),
                     workload or [t(lang, "monthly.no_workload")]))
    return sections


def people_of(spec: Mapping[str, Any]) -> list[str]:
    """The Slack user ids of the team members the report lists (workload, approvals), once
    each, in order: the ones to name (``person``)."""
    ids = [w["user_id"] for w in spec["workload"]] + [a["user_id"] for a in spec["approvals"]]
    return list(dict.fromkeys(ids))


def person(spec: Mapping[str, Any], user_id: str) -> str:
    """How the report writes a team member: the name Slack shows for them (``names``, put
    in by the sender that draws the report), else their user id."""
    return str((spec.get("names") or {}).get(user_id) or user_id)


def topic_name(topic: str, language: str) -> str:
    """A request topic's name in ``language``, as cards and digests write it (``billing``
    is "facturation" in French); a topic the catalogues do not know stays as stored."""
    key = f"topics.{topic}"
    return t(language, key) if has(key) else topic


def _local(spec: Mapping[str, Any], value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(ZoneInfo(spec["timezone"]))


def _heading(spec: Mapping[str, Any]) -> tuple[str, list[str]]:
    lang = _language(spec)
    # The window's end is exclusive: its last day is the one before a complete month's end.
    last = _local(spec, spec["end"]) - timedelta(microseconds=1)
    lines = [t(lang, "monthly.subtitle", workspace=spec.get("workspace") or "Vigie",
               start=f"{_local(spec, spec['start']):%Y-%m-%d}", end=f"{last:%Y-%m-%d}",
               zone=spec["timezone"])]
    if not spec["complete"]:
        lines.append(t(lang, "monthly.partial",
                       end=f"{_local(spec, spec['end']):%Y-%m-%d %H:%M}"))
    return t(lang, "monthly.title", month=spec["month"]), lines


# --------------------------------------------------------------------------- charts
ChartFn = Callable[[Any, Mapping[str, Any]], None]


def _style(axes: Any) -> None:
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _count_ticks(axis: Any, language: str) -> None:
    """Counts on ``axis`` written as the text writes them (``1 200`` in French); languages
    that do not group counts keep matplotlib's own labels."""
    if not t(language, "number.count_group"):
        return
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(
        lambda value, _position: tally(int(value), language) if float(value).is_integer()
        else digits(f"{value:g}", language)))


def chart_volume(axes: Any, spec: Mapping[str, Any]) -> None:
    """Mentions per day, stacked by sentiment."""
    lang = _language(spec)
    labels = [label for label, _counts in spec["days"]]
    positions = list(range(len(labels)))
    bottoms = [0] * len(labels)
    for key in SENTIMENTS:
        values = [counts.get(key, 0) for _label, counts in spec["days"]]
        if key == "unknown" and not any(values):
            continue
        axes.bar(positions, values, bottom=bottoms, color=COLORS[key], width=0.8,
                 label=t(lang, f"report.sentiment_{key}"))
        bottoms = [low + value for low, value in zip(bottoms, values, strict=True)]
    axes.set_title(t(lang, "monthly.chart_days"), fontsize=11)
    axes.set_xlabel(t(lang, "monthly.chart_x", zone=spec["timezone"]), fontsize=8)
    axes.set_ylabel(t(lang, "monthly.chart_y"), fontsize=8)
    axes.set_xticks(positions)
    axes.set_xticklabels(labels, fontsize=7)
    axes.set_ylim(0, max([*bottoms, 1]) * 1.25)
    _count_ticks(axes.yaxis, lang)
    axes.legend(loc="upper left", frameon=False, ncols=4, fontsize=7)
    _style(axes)


def chart_responses(axes: Any, spec: Mapping[str, Any]) -> None:
    """Answered vs not answered actionable mentions (the reply gap)."""
    lang = _language(spec)
    answered = spec["responses"]["answered"]
    gap = max(spec["responses"]["actionable"] - answered, 0)
    axes.barh([0], [answered], color=COLORS["positive"], label=t(lang, "monthly.answered_label"))
    axes.barh([0], [gap], left=[answered], color=COLORS["negative"],
              label=t(lang, "monthly.unanswered_label"))
    axes.set_yticks([])
    _count_ticks(axes.xaxis, lang)
    axes.set_title(t(lang, "monthly.chart_responses"), fontsize=11)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False, ncols=2,
                fontsize=8)
    _style(axes)


def _barh(axes: Any, names: Sequence[str], values: Sequence[int], title: str,
          language: str) -> None:
    positions = list(range(len(names)))
    axes.barh(positions, values, color=ACCENT)
    axes.set_yticks(positions)
    axes.set_yticklabels(names, fontsize=8)
    axes.invert_yaxis()
    _count_ticks(axes.xaxis, language)
    axes.set_title(title, fontsize=11)
    _style(axes)


def chart_topics(axes: Any, spec: Mapping[str, Any]) -> None:
    """Mentions per request topic."""
    _barh(axes, [topic_name(name, _language(spec)) for name, _count in spec["topics"]],
          [count for _name, count in spec["topics"]],
          t(_language(spec), "monthly.chart_topics"), _language(spec))


def chart_workload(axes: Any, spec: Mapping[str, Any]) -> None:
    """Mentions assigned per team member."""
    items = spec["workload"][:12]
    _barh(axes, [person(spec, w["user_id"]) for w in items], [w["assigned"] for w in items],
          t(_language(spec), "monthly.section_workload"), _language(spec))


def charts_for(spec: Mapping[str, Any]) -> list[ChartFn]:
    """The charts this report has data for, in page order."""
    charts: list[ChartFn] = []
    if spec["total"]:
        charts.append(chart_volume)
    if spec["responses"]["actionable"]:
        charts.append(chart_responses)
    if spec["topics"]:
        charts.append(chart_topics)
    if spec["workload"]:
        charts.append(chart_workload)
    return charts


def _figure(size: tuple[float, float]) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    return Figure(figsize=size)


# --------------------------------------------------------------------------- PDF
def _wrap(line: str) -> list[str]:
    import textwrap

    indent = len(line) - len(line.lstrip())
    return textwrap.wrap(line, TEXT_WIDTH, subsequent_indent=" " * (indent + 2)) or [""]


def render_pdf(spec: Mapping[str, Any]) -> bytes:
    """The report as an A4 PDF: a first page with the heading, the key figures and the
    daily chart; then the other charts; then the sections' text, as many pages as needed."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.backends.backend_pdf import PdfPages

    title, subtitle = _heading(spec)
    lang = _language(spec)
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC), \
            PdfPages(buffer, metadata={"Title": title, "Creator": "Vigie"}) as pdf:
        charts = charts_for(spec)
        sections = text_sections(spec)
        page = _figure(A4_INCHES)
        page.text(0.07, 0.95, title, fontsize=18, weight="bold")
        y = 0.925
        for line in subtitle:
            page.text(0.07, y, line, fontsize=9, color="#444444")
            y -= 0.02
        y = _write_lines(page, *sections[0][1:], y - 0.01)
        y = _write_lines(page, *sections[1][1:], y)
        if charts:
            charts[0](page.add_axes((0.1, 0.08, 0.82, max(y - 0.15, 0.2))), spec)
        pdf.savefig(page)
        for pair_start in range(1, len(charts), 2):
            page = _figure(A4_INCHES)
            for slot, chart in enumerate(charts[pair_start:pair_start + 2]):
                chart(page.add_axes((0.22, 0.56 - slot * 0.47, 0.7, 0.36)), spec)
            pdf.savefig(page)
        lines: list[tuple[str, bool]] = []
        for _key, heading, body in sections[2:]:
            lines.append((heading, True))
            lines += [(wrapped, False) for line in body for wrapped in _wrap(line)]
            lines.append(("", False))
        lines.append((t(lang, "monthly.generated",
                        when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")), False))
        per_page = 52
        for start in range(0, len(lines), per_page):
            page = _figure(A4_INCHES)
            y = 0.95
            for text, bold in lines[start:start + per_page]:
                page.text(0.07, y, text, fontsize=11 if bold else 8,
                          weight="bold" if bold else "normal",)
                y -= 0.0175
            pdf.savefig(page)
    return buffer.getvalue()


def _write_lines(page: Any, heading: str, body: list[str], y: float) -> float:
    page.text(0.07, y, heading, fontsize=12, weight="bold")
    y -= 0.022
    for line in body:
        for wrapped in _wrap(line):
            page.text(0.07, y, wrapped, fontsize=9)
            y -= 0.018
    return y - 0.012


# --------------------------------------------------------------------------- HTML
def _png(chart: ChartFn, spec: Mapping[str, Any]) -> str:
    figure = _figure((8, 3.6))
    chart(figure.add_axes((0.18, 0.2, 0.78, 0.68)), spec)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#1f2328}h1{margin-bottom:.2rem}.sub{color:#57606a}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}td,th{border:1px solid #d0d7de;
padding:.25rem .5rem;text-align:left}img{max-width:100%}li{margin:.2rem 0}"""


def render_html(spec: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page (charts inline, text escaped)."""
    lang = _language(spec)
    title, subtitle = _heading(spec)
    sections = text_sections(spec)
    import matplotlib

    with matplotlib.rc_context(RC):
        images = {chart.__name__: _png(chart, spec) for chart in charts_for(spec)}
    parts = [f"<!DOCTYPE html><html lang=\"{html.escape(lang)}\"><head><meta charset=\"utf-8\">"
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    parts += [f"<p class=\"sub\">{html.escape(line)}</p>" for line in subtitle]
    for key, heading, body in sections:
        parts.append(f"<section><h2>{html.escape(heading)}</h2>")
        if key == "influencers" and spec["influencers"]:
            parts.append(_influencer_table(spec))
        else:
            parts.append("<ul>" + "".join(f"<li>{html.escape(line.strip())}</li>"
                                          for line in body) + "</ul>")
        name = f"chart_{key}"
        if name in images:
            parts.append(f"<img alt=\"{html.escape(name)}\" "
                         f"src=\"data:image/png;base64,{images[name]}\">")
        parts.append("</section>")
    generated = t(lang, "monthly.generated",
                  when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    parts.append(f"<p class=\"sub\">{html.escape(generated)}</p>")
    parts.append("</body></html>")
    return "".join(parts)


def _influencer_table(spec: Mapping[str, Any]) -> str:
    lang = _language(spec)
    head = [t(lang, f"monthly.col_{c}") for c in
            ("author", "network", "followers", "mentions", "engagement", "trend", "tracked")]
    rows = [[item["handle"], item["network"], _count(item["followers"], lang),
             tally(item["mentions"], lang), tally(item["engagement"], lang), _trend(item, lang),
             t(lang, "monthly.yes") if item["tracked"] else ""] for item in spec["influencers"]]
    zone = spec["timezone"]
    posts = "".join(
        "<li>" + t(lang, "monthly.labelled",
                   label=f"{html.escape(item['handle'])}, "
                         f"{html.escape(_day(p['published_at'], zone, lang))}",
                   value=_link(p["url"], _clip(p["text"], MAX_POST_CHARS))) + "</li>"
        for item in spec["influencers"] for p in item["last_posts"])
    return _table(head, rows) + (f"<ul>{posts}</ul>" if posts else "")


def _link(url: str, label: str) -> str:
    """A post's link with its words as label, shown as Slack messages show it
    (:func:`bot.link_labels.label_use`): the host it leads to beside the words, or, when
    the words name another site, the words as text and only the real host linked. Only web
    links become links: a post's URL comes from outside (no javascript:)."""
    host = link_host(str(url))
    if host is None:
        return html.escape(label)
    href, shown = html.escape(str(url)), html.escape(shown_host(host))
    use = label_use(host, label)
    if use == "apart":
        return f"{html.escape(label)} (<a href=\"{href}\">{shown}</a>)"
    if use == "alone":
        return f"<a href=\"{href}\">{html.escape(label)}</a>"
    return f"<a href=\"{href}\">{html.escape(label)} ({shown})</a>"
