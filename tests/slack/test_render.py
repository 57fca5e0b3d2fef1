"""Typed specs in, Slack text and blocks out: notes, cards and the send-time rendering of
``OutgoingMessage.spec`` (the notifiers call ``rendered``)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.messages.cards import CardSpec, CardView
from bot.messages.delivery import OutgoingMessage
from bot.messages.notes import (
    Date,
    Link,
    Note,
    RiskFlags,
    RiskLevel,
    Text,
    note_from_json,
    note_to_json,
)
from bot.messages.opportunities import OpportunitySpec, OpportunityView
from bot.messages.spikes import STAGE_OVER, SpikeAlertSpec, SpikeSample, SpikeWatchFigures
from bot.messages.stored import payload_spec, spec_payload
from bot.slack.cards import build_card
from bot.slack.notes import render_note
from bot.slack.opportunity_blocks import build_opportunity_card
from bot.slack.render import payload_text, render_payload, render_spec, rendered
from bot.slack.spike_blocks import build_spike_alert

WHEN = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _card() -> CardView:
    return CardView(
        mention_id=7, network="mastodon", url="https://social.example/@ana/1",
        author_handle="@ana", author_name="Ana <!channel>", followers=48_213, title=None,
        text="Where is my <order>?", published_at=WHEN, watch_name="acme", status="new",
        sentiment_label="negative", intent="complaint", priority=72,
        priority_reason="complaint · negative · 48k followers", actions=("assign", "draft"))


def test_a_note_escapes_outside_text_and_formats_dates_links_and_flags() -> None:
    note = (Note.of("en", "workflow.note_draft", actor="<@U1>", version=2,
                    text=Text("<!channel> & " + "word " * 600, 2500))
            .then("workflow.note_risk", level=RiskLevel("warn"), flags=RiskFlags(("pii_phone",))))
    text = render_note(note)
    first, second = text.split("\n>>> ", 1)[0], text.rsplit("\n", 1)[1]
    assert first == "<@U1> wrote draft v2:"
    assert "&lt;!channel&gt; &amp; word" in text and "<!channel>" not in text
    assert text.split("\n>>> ", 1)[1].split("\n")[0].endswith("…")
    assert second == ":warning: Risk *medium*: a phone number"
    french = Note("fr", note.phrases[1:])
    assert render_note(french) == ":warning: Risque *moyen* : un numéro de téléphone"
    assert note_from_json(note_to_json(note)) == note
    breach = render_note(Note.of("en", "sla.breach", id="#7", due=Date(WHEN)))
    assert f"<!date^{int(WHEN.timestamp())}^" in breach and "2026-12-05 09:00 UTC" in breach
    replied = render_note(Note.of("fr", "workflow.note_replied", actor="<@U1>",
                                  url=Link("javascript:alert(1)", "x <y>")))
    assert "javascript" not in replied


def test_a_note_survives_the_outbox_json_and_renders_the_same() -> None:
    note = Note.of("fr", "sla.reminder", id="#7", due=Date(WHEN), watch=Text("a<b"))
    note = note.then("workflow.note_reason", reason=Text(None)).then(
        "workflow.note_replied", actor="outbox", url=Link(None, "https://x"))
    assert note_from_json(note_to_json(note)) == note
    assert payload_text({"note": note_to_json(note)}) == render_note(note)


def test_rows_written_before_notes_were_data_keep_their_text() -> None:
    assert payload_text({"text": ":wave: already *mrkdwn*"}) == ":wave: already *mrkdwn*"
    message = OutgoingMessage(channel="C1", text="kept", blocks=[{"type": "divider"}])
    assert rendered(message) is message


def test_a_card_spec_renders_as_build_card_would() -> None:
    view = _card()
    assert render_spec(CardSpec(view, "fr")) == build_card(view, "fr")
    message = rendered(OutgoingMessage(channel="C1", spec=CardSpec(view, "en"),
                                       event_type="vigie_mention_posted"))
    text, blocks = build_card(view, "en")
    assert (message.text, message.blocks, message.spec) == (text, blocks, None)
    assert message.event_type == "vigie_mention_posted"
    assert "&lt;order&gt;" in str(blocks) and "<!channel>" not in str(blocks)


def test_an_opportunity_spec_renders_as_its_card() -> None:
    view = OpportunityView(
        id=3, reason="alternative", status="open", group="acme-vs", competitor="Rival",
        network="bluesky", url="https://bsky.app/x", author_handle="bob", followers=1_250,
        text="Rival lost my parcel", title=None, published_at=WHEN, assignee_user_id=None,
        draft=None)
    assert render_spec(OpportunitySpec(view, "en")) == build_opportunity_card(view, "en")


def test_a_note_spec_is_text_only() -> None:
    note = Note.of("en", "workflow.note_reject", actor="<@U1>", reason=Text("no <b>"))
    assert render_spec(note) == (
        ":leftwards_arrow_with_hook: <@U1> sent the draft back: no &lt;b&gt;", None)


def test_a_spike_alert_is_stored_as_data_and_rendered_when_sent() -> None:
    spec = SpikeAlertSpec(
        language="en", watch="acme <x>", kind="volume", total=40, baseline=2.0,
        negative_share=0.5, baseline_negative_share=0.1, terms=(("refund", 12),),
        links=(("https://example.com/a", 3),), authors=(("@loud", 48_213), ("@anon", None)),
        samples=(SpikeSample("@loud", "where is my <refund>", "https://example.com/p"),))
    payload = spec_payload(spec)
    assert payload_spec(payload) == spec
    text, blocks = render_payload(payload)
    assert (text, blocks) == build_spike_alert(spec)
    assert text.startswith("Unusual") or "acme &lt;x&gt;" in text
    assert blocks is not None and "48k" in str(blocks) and "&lt;refund&gt;" in str(blocks)


def test_a_spike_alert_keeps_its_examples_mention_ids_beside_its_samples() -> None:
    """The ids go beside the samples (a worker of an older version still reads them),
    and an alert stored before them reads with none and renders the same."""
    spec = SpikeAlertSpec(
        language="en", watch="acme", kind="volume", total=40, baseline=2.0,
        negative_share=0.5, baseline_negative_share=0.1,
        samples=(SpikeSample("@loud", "where is my refund", "https://example.com/p", 42),
                 SpikeSample("@anon", "still waiting", "https://example.com/q", 43)))
    payload = spec_payload(spec)
    assert payload["spike"]["samples"][0] == ["@loud", "where is my refund",
                                              "https://example.com/p"]
    assert payload["spike"]["sample_ids"] == [42, 43]
    assert payload_spec(json.loads(json.dumps(payload))) == spec
    older = {"spike": {k: v for k, v in payload["spike"].items() if k != "sample_ids"}}
    read = payload_spec(older)
    assert isinstance(read, SpikeAlertSpec)
    assert [s.mention_id for s in read.samples] == [None, None]
    assert render_payload(older) == render_payload(payload)


def test_a_row_written_before_specs_were_data_is_sent_as_stored() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*old*"}}]
    assert render_payload({"text": "old", "blocks": blocks}) == ("old", blocks)
    assert payload_spec({"text": "old", "blocks": blocks}) is None


def test_a_feed_byline_shows_its_site_not_an_address() -> None:
    """A feed's author is keyed byline@site: the card showed "julie_m (julie_m@blog.example)",
    which reads as an email address the post never gave."""
    view = replace(_card(), network="rss", author_handle="julie_m@blog.example",
                   author_name="julie_m", followers=None)
    text, blocks = build_card(view, "en")
    shown = json.dumps(blocks, ensure_ascii=False)
    zwsp = "\u200b"
    assert f"*julie_{zwsp}m* (blog.example)" in shown, shown
    assert "@blog.example" not in shown and "@blog.example" not in text
    mastodon = json.dumps(build_card(replace(_card(), author_name="ana"), "en")[1])
    assert "(@ana)" in mastodon


def test_an_opportunity_card_shows_formatting_characters_of_a_handle_as_typed() -> None:
    # `*Boss*` closed the card's bold author and turned bold (mention cards were fixed).
    view = OpportunityView(
        id=3, reason="alternative", status="open", group="acme-vs", competitor="Rival",
        network="x", url="https://x.com/b/1", author_handle="*Boss*_x", followers=10,
        text="Rival lost my parcel", title=None, published_at=WHEN, assignee_user_id=None,
        draft=None)
    text, blocks = build_opportunity_card(view, "en")
    zwsp = "\u200b"
    for shown in (text, json.dumps(blocks, ensure_ascii=False)):
        assert f"*{zwsp}Boss*{zwsp}_{zwsp}x" in shown, shown
        assert "*Boss*" not in shown


HOUR = timedelta(hours=1)


def test_a_spike_over_note_round_trips_and_speaks_french() -> None:
    hour = datetime(2026, 11, 20, 20, tzinfo=UTC)
    spec = SpikeAlertSpec(
        language="fr", watch="acme", kind="volume", total=0, baseline=0.0, negative_share=0.0,
        baseline_negative_share=0.0, hour_start=hour, zone="Europe/Paris", stage=STAGE_OVER,
        watches=(SpikeWatchFigures("acme", 3, 2.0, 0.0, 0.1),),
        peak=SpikeWatchFigures("acme", 440, 2.0, 0.9, 0.1), peak_hour=hour - 5 * HOUR,
        first_hour=hour - 6 * HOUR, last_hour=hour - 3 * HOUR)
    text, blocks = render_payload(spec_payload(spec))
    assert (text, blocks) == build_spike_alert(spec)
    body = str(blocks)
    assert "Pic terminé sur acme : retour à la normale le 20 nov. de 21:00 à 22:00" in body
    assert "Pic : 440 mentions le 20 nov. de 16:00 à 17:00 (Europe/Paris) sur *acme*." in body
    assert "Durée : 4 h, le 20 nov. de 15:00 à 19:00 (Europe/Paris)." in body


def test_a_dm_s_mention_lines_follow_the_note_s_language() -> None:
    from bot.messages.notes import MentionRef, NoteWithMentions
    from bot.slack.notes import render_note_with_mentions

    ref = MentionRef(id=7, channel=None, ts=None, url="https://m.example/7", author="@ana",
                     network="mastodon", excerpt="where is my order")
    for language, line in (("en", "(Mastodon): _where is my order_"),
                           ("fr", "(Mastodon) : _where is my order_")):
        spec = NoteWithMentions(Note.of(language, "notify.approval_digest", count=1), (ref,))
        assert render_note_with_mentions(spec).endswith(line), language


def test_a_dm_excerpt_cannot_format_itself_or_close_its_italic() -> None:
    """The excerpt is outside text in an italic: its ``*bold*`` stays asterisks and its
    ``_`` cannot end the italic early (as the cards neutralise outside text)."""
    from bot.messages.notes import MentionRef, NoteWithMentions
    from bot.slack.escape import ZERO_WIDTH_SPACE as ZW
    from bot.slack.notes import render_note_with_mentions

    ref = MentionRef(id=7, channel=None, ts=None, url="https://m.example/7", author="@ana",
                     network="rss", excerpt="*GRATUIT* snake_case ~barré~ `code`")
    for language, network in (("en", "(RSS/Atom feeds)"), ("fr", "(RSS/Atom)")):
        spec = NoteWithMentions(Note.of(language, "notify.approval_digest", count=1), (ref,))
        text = render_note_with_mentions(spec)
        assert network in text, text
        assert text.endswith(f"_*{ZW}GRATUIT*{ZW} snake_{ZW}case ~{ZW}barré~{ZW} "
                             f"`{ZW}code`{ZW}_"), text


def test_a_network_in_a_note_survives_the_outbox_and_follows_the_language() -> None:
    from bot.messages.notes import NetworkName

    for language, said in (("en", "Vigie cannot post on RSS/Atom feeds:"),
                            ("fr", "Vigie ne peut pas publier sur RSS/Atom :")):
        note = Note.of(language, "workflow.note_post_elsewhere", network=NetworkName("rss"))
        assert note_from_json(note_to_json(note)) == note
        assert render_note(note).startswith(said), render_note(note)
    # A feed's own label, unknown to Vigie, is shown as it is (escaped).
    own = Note.of("fr", "workflow.note_post_elsewhere", network=NetworkName("<news>"))
    assert "sur &lt;news&gt; :" in render_note(own)


def test_a_network_in_a_stored_note_reads_as_outside_text_in_older_releases() -> None:
    """A rolling deploy runs the release before NetworkName beside this one: its reader
    took any unknown dict for risk flags (``value["flags"]``, a KeyError) and failed the
    note for good ("Posting the reply on Mastodon…", approval DMs). It reads a dict with
    "text" as outside text: the network's English name."""
    from bot.messages.notes import NetworkName

    note = Note.of("fr", "workflow.note_post_elsewhere", network=NetworkName("rss"))
    (phrase,) = note_to_json(note)["phrases"]
    assert phrase["args"]["network"] == {"network": "rss", "text": "RSS/Atom feeds"}
    assert note_from_json(note_to_json(note)) == note


def test_a_comments_context_shows_formatting_characters_as_typed() -> None:
    """A thread's title shown as a comment's context is outside words: ``*Boss*`` and
    ``snake_case`` turned bold or italic (it was escaped, not unformatted)."""
    view = replace(_card(), title=None, context="*Boss* says <hi> to snake_case fans")
    shown = json.dumps(build_card(view, "en")[1], ensure_ascii=False)
    zwsp = "\u200b"
    assert f"In reply to “*{zwsp}Boss*{zwsp} says &lt;hi&gt; to snake_{zwsp}case fans”" in shown
