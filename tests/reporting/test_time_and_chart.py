"""Local-time arithmetic and the chart image."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.reports.charts import (
    HEIGHT_PX,
    WIDTH_PX,
    chart_labels,
    render_chart_spec,
    render_sentiment_chart,
    share_figure,
)
from bot.services.errors import ServiceError
from bot.services.reporting.periods import (
    at_local,
    day_window,
    local_days,
    offset_segments,
    parse_local_time,
    zone,
)

PARIS = ZoneInfo("Europe/Paris")


def test_parse_local_time() -> None:
    assert parse_local_time("08:30") == time(8, 30)
    assert parse_local_time("7:05") == time(7, 5)
    assert parse_local_time("23:59") == time(23, 59)
    for bad in ("24:00", "8.30", "08:3", "0830", "noon", "-1:00"):
        with pytest.raises(ServiceError):
            parse_local_time(bad)


def test_zone() -> None:
    assert zone("Europe/Paris").key == "Europe/Paris"
    assert zone(" UTC ").key == "UTC"
    for bad in ("Europe/Atlantis", "/etc/localtime", "..", "Europe/../UTC", ""):
        with pytest.raises(ServiceError):
            zone(bad)


def test_local_days_are_23_or_25_hours_when_clocks_change() -> None:
    start, end = day_window(datetime(2026, 10, 25, 8, tzinfo=UTC), PARIS)
    assert end - start == timedelta(hours=25)
    start, end = day_window(datetime(2026, 3, 29, 7, tzinfo=UTC), PARIS)
    assert end - start == timedelta(hours=23)
    days = local_days(date(2026, 10, 25), 2, PARIS)
    assert [(d, e - s) for d, s, e in days] == [(date(2026, 10, 24), timedelta(hours=24)),
                                               (date(2026, 10, 25), timedelta(hours=25))]


def test_times_skipped_or_repeated_by_a_change() -> None:
    # 02:30 does not exist on 29 March in Paris: it lands at 03:30 CEST (01:30 UTC).
    assert at_local(date(2026, 3, 29), time(2, 30), PARIS) == datetime(2026, 3, 29, 1, 30,
                                                                        tzinfo=UTC)
    # 02:30 happens twice on 25 October: the first one (CEST, 00:30 UTC).
    assert at_local(date(2026, 10, 25), time(2, 30), PARIS) == datetime(2026, 10, 25, 0, 30,
                                                                         tzinfo=UTC)


def test_offset_segments() -> None:
    start = datetime(2026, 10, 20, tzinfo=UTC)
    end = datetime(2026, 11, 1, tzinfo=UTC)
    assert offset_segments(start, end, PARIS) == [
        (start, 120), (datetime(2026, 10, 25, 1, tzinfo=UTC), 60)]
    assert offset_segments(start, end, ZoneInfo("UTC")) == [(start, 0)]


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks.append((kind, body))
        offset += 12 + length
    return chunks


def test_chart_is_a_readable_png_of_the_expected_size() -> None:
    labels = [f"{day:02d} Oct" for day in range(12, 26)]
    series = {"negative": [0] * 11 + [1, 4, 2], "neutral": [0] * 12 + [2, 1],
              "positive": [0] * 11 + [1, 2, 1], "unknown": [0] * 14}
    png = render_sentiment_chart(labels, series, title="Mentions by sentiment",
                                 xlabel="Day (Europe/Paris)", ylabel="Mentions",
                                 legend=chart_labels("en")["series"])
    chunks = _png_chunks(png)
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (width, height) == (WIDTH_PX, HEIGHT_PX) == (1000, 500)
    assert depth == 8 and color in (2, 6)
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    channels = 4 if color == 6 else 3
    assert len(pixels) == height * (width * channels + 1)
    # Decoded by an image library too, with the bars drawn in their colours.
    image = pytest.importorskip("PIL.Image").open(io.BytesIO(png)).convert("RGB")
    assert image.size == (1000, 500)
    colours = {colour for _count, colour in image.getcolors(maxcolors=1 << 20)}
    assert {(0xD6, 0x45, 0x45), (0x2F, 0x9E, 0x44), (0x9A, 0xA5, 0xB1)} <= colours


@pytest.mark.parametrize(("language", "labels"), [
    ("en", ["53%", "25%", "47%", "75%"]),
    ("fr", ["53\u202f%", "25\u202f%", "47\u202f%", "75\u202f%"]),
])
def test_share_of_voice_chart_labels_its_bars_in_the_reader_language(
        language: str, labels: list[str]) -> None:
    """The share-of-voice chart writes each bar's percentage the reader's way ("53 %" with a
    narrow no-break space in French); a chart queued before it carried a language is drawn
    in English."""
    spec = {"kind": "share", "members": ["acme", "rivalo"], "metrics": ["Mentions", "Reach"],
            "shares": [[53.2, 25.0], [46.8, 75.0]], "title": "Share of voice", "xlabel": "%",
            "language": language}
    figure = share_figure(spec["members"], spec["metrics"], spec["shares"],
                          title="Share of voice", xlabel="%", language=language)
    assert [text.get_text() for text in figure.axes[0].texts] == labels
    assert render_chart_spec(spec)[:8] == b"\x89PNG\r\n\x1a\n"
    del spec["language"]
    assert render_chart_spec(spec)[:8] == b"\x89PNG\r\n\x1a\n"


def test_dollar_signs_in_names_are_text_never_mathtext() -> None:
    """A watch or group member named with "$" is drawn as written: "$x$" is not maths, and
    a name that is not valid mathtext ("$\\foo$") does not break the chart."""
    odd = "Acme $\\notacommand$ $x^2$"
    legend = {"negative": odd, "neutral": "$neutral$"}
    png = render_sentiment_chart(["$1$", "02 Oct"], {"negative": [1, 2], "neutral": [0, 1]},
                                 title=odd, xlabel="$day$", ylabel="$n$", legend=legend)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    spec = {"kind": "share", "members": [odd, "$rival$"], "metrics": ["$Mentions$", "Reach"],
            "shares": [[53.2, 25.0], [46.8, 75.0]], "title": odd, "xlabel": "$%$"}
    assert render_chart_spec(spec)[:8] == b"\x89PNG\r\n\x1a\n"
    figure = share_figure(spec["members"], spec["metrics"], spec["shares"], title=odd,
                          xlabel="%")
    axes = figure.axes[0]
    texts = [axes.title, *axes.get_yticklabels(), *axes.get_legend().get_texts()]
    assert odd in [text.get_text() for text in texts]
    assert not any(text.get_parse_math() for text in texts)
