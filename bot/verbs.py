"""The verbs `/cm` and the `vigie` command have in common, defined once: their positional
arguments (which make both the help line and the argument count each accepts) and their
one-line help. `/cm` builds its table entries from them (``handlers.commands.registry``),
the CLI its click commands (``bot.cli.common.shared_command``); tests/handlers/
test_shared_verbs.py holds the two to the same inputs.

Only verbs whose arguments read the same in Slack and in the terminal are here: `watch add`
(options in the CLI, inline ``threshold:N`` in Slack) and the like stay apart.

Pure and standard-library only: the CLI imports this when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SharedVerb:
    """`GROUP VERB ARGS...`; an argument written ``[NAME]`` is optional (only after the
    required ones)."""

    group: str
    name: str
    args: tuple[str, ...]
    help: str
    params: tuple[str, ...] = ()
    """The CLI function's parameter names for ``args`` (default: the names lower-cased)."""

    def param_names(self) -> tuple[str, ...]:
        """The CLI function's parameter name of each argument."""
        return self.params or tuple(arg.strip("[]").lower() for arg in self.args)

    def form(self) -> str:
        """The arguments as usage lines write them (``NETWORK HANDLE``)."""
        return " ".join(self.args)

    def count(self) -> tuple[int, int]:
        """How many arguments it accepts: at least, at most."""
        return sum(1 for arg in self.args if not arg.startswith("[")), len(self.args)


ACCOUNT_ADD = SharedVerb("account", "add", ("NETWORK", "HANDLE"),
                         "Declare HANDLE on NETWORK (x, mastodon, bluesky, reddit, hackernews) "
                         "as the brand's.")
ACCOUNT_LIST = SharedVerb("account", "list", (), "List the brand's accounts.")
ACCOUNT_REMOVE = SharedVerb("account", "remove", ("NETWORK", "HANDLE"),
                            "Forget HANDLE on NETWORK.")
WATCH_PAUSE = SharedVerb("watch", "pause", ("NAME",), "Pause a watch (no polling, no alerts).")
WATCH_RESUME = SharedVerb("watch", "resume", ("NAME",), "Resume a paused watch.")
WATCH_REMOVE = SharedVerb("watch", "remove", ("NAME",),
                          "Delete a watch and its sources (mentions are kept).")

OPP_CONTACTED = SharedVerb("opp", "contacted", ("ID",),
                           "Mark an opportunity contacted (the team reached the author).",
                           params=("opportunity_id",))
OPP_DISMISS = SharedVerb("opp", "dismiss", ("ID",), "Dismiss an opportunity.",
                         params=("opportunity_id",))
OPP_REOPEN = SharedVerb("opp", "reopen", ("ID",),
                        "Reopen a contacted or dismissed opportunity.", params=("opportunity_id",))
OPP_SHARED = {verb.name: verb for verb in (OPP_CONTACTED, OPP_DISMISS, OPP_REOPEN)}
"""The opportunity actions that read the same in both (`assign`'s user is optional in Slack,
required in the terminal; `draft` checks its text in the service in Slack)."""

SHARED = (ACCOUNT_ADD, ACCOUNT_LIST, ACCOUNT_REMOVE, WATCH_PAUSE, WATCH_RESUME, WATCH_REMOVE,
          OPP_CONTACTED, OPP_DISMISS, OPP_REOPEN)
"""Every shared verb."""
