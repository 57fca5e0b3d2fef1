"""One workflow action on several mentions (`/cm ignore 41 42 43 duplicates`).

Each mention is worked in its own transaction by the same service a single id uses, so a
mention refused (unknown id, not allowed, not possible in its state) leaves the others
done; the outcome lists, id by id in the order given, what was done and what was refused
and why: nothing is half-done silently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.i18n import t
from bot.services.errors import ServiceError
from bot.services.workflow import Outcome

MAX_AT_ONCE = 20
"""Mentions one command may name: enough for a burst of duplicates, and one answer still
reads at a glance."""


@dataclass(frozen=True, slots=True)
class EachOutcome:
    """What one action did to each mention named, in the order named."""

    results: tuple[tuple[int, Outcome | ServiceError], ...]

    @property
    def done(self) -> list[Outcome]:
        """The mentions the action went through for."""
        return [result for _id, result in self.results if isinstance(result, Outcome)]

    @property
    def refused(self) -> list[tuple[int, ServiceError]]:
        """The ids refused, each with its explanation."""
        return [(mention_id, result) for mention_id, result in self.results
                if isinstance(result, ServiceError)]

    def message(self, language: str) -> str:
        """One answer: a count, then a line per id (done, or refused and why)."""
        if len(self.results) == 1 and self.done:
            return self.done[0].message(language)
        lines = [t(language, "workflow.each_summary", done=len(self.done),
                   total=len(self.results))]
        for mention_id, result in self.results:
            if isinstance(result, Outcome):
                lines.append(t(language, "workflow.each_done", text=result.message(language)))
            else:
                lines.append(t(language, "workflow.each_refused", id=mention_id,
                               reason=result.message(language)))
        return "\n".join(lines)


def do_each(mention_ids: Sequence[int], act: Callable[[int], Outcome]) -> EachOutcome:
    """Run ``act`` (one mention's service call, its own transaction) on each of
    ``mention_ids`` (duplicates once), going on past a refusal. A single id's refusal is
    raised as it is, as a command naming one mention has always answered."""
    ids = list(dict.fromkeys(mention_ids))
    if not ids:
        raise ValueError("no mention id")
    if len(ids) > MAX_AT_ONCE:
        raise ServiceError("workflow.too_many_at_once", count=str(len(ids)),
                           limit=str(MAX_AT_ONCE))
    results: list[tuple[int, Outcome | ServiceError]] = []
    for mention_id in ids:
        try:
            results.append((mention_id, act(mention_id)))
        except ServiceError as err:
            if len(ids) == 1:
                raise
            results.append((mention_id, err))
    return EachOutcome(tuple(results))
