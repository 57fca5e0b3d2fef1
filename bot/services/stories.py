"""Stories whose posts are deleted (a forget).

A story is one link several posts carry (``bot.services.ingest``): its first post, in the
watch that stored them, holds the story's card, which counts, sums the reach of and names
the story's posts (``bot.services.cards``). Before posts of a story are deleted, a story
whose first post stays has its card re-rendered without them, when asked (a forget: the
card named the author).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.outbox import KIND_UPDATE_CARD, do_enqueue
from storage.bulk import one_of
from storage.models import Mention


def do_keep_stories(session: Session, mention_ids: Sequence[int], *, refresh_cards: bool
                    ) -> None:
    """Before the mentions ``mention_ids`` are deleted (in the caller's transaction): the
    stories they are in keep showing what is stored (see the module docstring).

    ``refresh_cards``: re-render the cards of the stories that lose posts but not their
    first."""
    ids = sorted(set(mention_ids))
    if not ids:
        return
    if refresh_cards:
        _refresh_firsts(session, ids)


def _refresh_firsts(session: Session, ids: list[int]) -> None:
    """Re-render the cards of the stories that lose some of ``ids`` but not their first
    post (the card renders the posts stored then)."""
    firsts = sorted({int(story) for story in session.scalars(
        select(Mention.story_id).where(one_of(session, Mention.id, ids)))
        if story is not None} - set(ids))
    if not firsts:
        return
    for mention_id, workspace_id, channel, ts in session.execute(
            select(Mention.id, Mention.workspace_id, Mention.slack_channel, Mention.slack_ts)
            .where(Mention.id.in_(firsts))):
        if channel and ts:
            do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPDATE_CARD,
                       channel=str(channel), mention_id=mention_id)
