"""Send the app what Slack sends to its HTTP endpoint, signed like Slack.

Every request is signed with the signing secret exactly as Slack does it
(``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``, headers ``X-Slack-Request-Timestamp``
and ``X-Slack-Signature``) and posted to ``{base_url}/slack/events``:

* slash commands as an ``application/x-www-form-urlencoded`` form;
* ``block_actions``, ``view_submission`` and ``view_closed`` as a form with one field,
  ``payload=<JSON>``;
* Events API envelopes (``event_callback``) and ``url_verification`` as JSON.

Each kind has a pure builder (``*_form``/``*_payload``/``*_envelope``, reusable for
Socket Mode envelopes) and a sender returning the ``httpx.Response``. Senders take the
builder's keyword arguments plus the delivery options of :func:`post`
(``bad_signature``, ``stale_timestamp``, ``timestamp``, ``path``, ``headers``,
``client``, ``timeout``).

When given the ``standin``, builders make the payload agree with what the app did:
response URLs point at the stand-in (which records what the app posts there),
``block_action`` clicks a button of a message or view the app really posted/opened,
and ``view_submission`` submits a view the app really opened.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs, urlencode

import httpx

from tests.harness import constants as k

if TYPE_CHECKING:
    from tests.harness.slack_standin import SlackStandIn

EVENTS_PATH: Final = "/slack/events"
#: Slack's ``User-Agent`` for requests to apps.
SLACK_USER_AGENT: Final = "Slackbot 1.0 (+https://api.slack.com/robots)"
#: Age of a ``stale_timestamp`` request; Slack's SDKs reject requests older than 5 minutes.
STALE_AGE_SECONDS: Final = 6 * 60
FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE: Final = "application/json"

_seq = itertools.count(1)

SLACK_CONNECT: Final = "T07PARTNER1"
"""A workspace of another organisation, whose members share a channel with Vigie's
(Slack Connect), for ``user_team_id=``. What Slack sends for their actions:
``block_actions`` carry the host's ``team.id`` and the clicker's own ``user.team_id``
(slackapi/java-slack-sdk#1041); ``view_submission`` carries the user's team in ``team.id``
and the host in ``view.app_installed_team_id`` (Slack Support, slackapi/bolt-js#1614; Bolt
for Python reads it since slackapi/bolt-python#734). On Enterprise Grid ``user.team_id``
may be the org's ``E…`` id."""

_KNOWN_USERS: Final = {k.USER_ID: k.USER_NAME, k.OTHER_USER_ID: k.OTHER_USER_NAME}
_KNOWN_CHANNELS: Final = {k.CHANNEL_ID: k.CHANNEL_NAME}

_SINGLE_OPTION = frozenset({"static_select", "external_select", "overflow", "radio_buttons"})
_MULTI_OPTION = frozenset({"multi_static_select", "multi_external_select", "checkboxes"})
_SELECTED_KEY: Final = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}


# ============================================================================ signing
def sign(secret: str, timestamp: int | str, body: str | bytes) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{ts}:{body}``."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    base = b"v0:" + str(timestamp).encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str,
    body: str | bytes,
    *,
    content_type: str,
    timestamp: int | None = None,
    bad_signature: bool = False,
    stale_timestamp: bool = False,
) -> dict[str, str]:
    """The headers Slack sends with ``body``.

    Args:
        bad_signature: sign correctly, then alter the signature (must be rejected).
        stale_timestamp: sign correctly with a timestamp 6 minutes old (must be
            rejected as a possible replay).
        timestamp: explicit ``X-Slack-Request-Timestamp`` (default: now).
    """
    ts = timestamp if timestamp is not None else int(time.time())
    if stale_timestamp:
        ts -= STALE_AGE_SECONDS
    signature = sign(secret, ts, body)
    if bad_signature:
        last = signature[-1]
        signature = signature[:-1] + ("0" if last != "0" else "1")
    return {
        "Content-Type": content_type,
        "User-Agent": SLACK_USER_AGENT,
        "Accept": "application/json,*/*",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature,
    }


def post(
    base_url: str,
    secret: str,
    body: str,
    *,
    content_type: str,
    path: str = EVENTS_PATH,
    bad_signature: bool = False,
    stale_timestamp: bool = False,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
    client: httpx.Client | None = None,
    timeout: float = 10.0,
) -> httpx.Response:
    """POST a signed ``body`` to ``{base_url}{path}`` and return the response.

    ``headers`` are added last (e.g. ``X-Slack-Retry-Num``); ``client`` reuses an
    ``httpx.Client``. Slack gives apps 3 seconds to answer; check
    ``response.elapsed`` if the test cares.
    """
    all_headers = signed_headers(
        secret,
        body,
        content_type=content_type,
        timestamp=timestamp,
        bad_signature=bad_signature,
        stale_timestamp=stale_timestamp,
    )
    all_headers.update(headers or {})
    url = base_url.rstrip("/") + path
    if client is not None:
        return client.post(url, content=body.encode("utf-8"), headers=all_headers, timeout=timeout)
    return httpx.post(url, content=body.encode("utf-8"), headers=all_headers, timeout=timeout)


def _delivery(options: dict[str, Any]) -> dict[str, Any]:
    """Split the :func:`post` options out of a sender's keyword arguments."""
    names = (
        "path",
        "bad_signature",
        "stale_timestamp",
        "timestamp",
        "headers",
        "client",
        "timeout",
    )
    return {name: options.pop(name) for name in names if name in options}


# ============================================================================ values
def new_trigger_id() -> str:
    """A fresh trigger id shaped like Slack's (``"123.456.abc..."``); each is single-use."""
    n = next(_seq)
    return f"{7_012_345_678_901 + n}.{738_474_920}.{uuid.uuid4().hex}"


def _trigger_for(standin: SlackStandIn | None) -> str:
    """A trigger id issued by ``standin`` (so it expires like Slack's), else a fresh one."""
    return standin.issue_trigger_id() if standin is not None else new_trigger_id()


def _action_ts() -> str:
    return f"{time.time():.6f}"


def _user_name(user_id: str) -> str:
    return _KNOWN_USERS.get(user_id, f"user-{user_id.lower()}")


def _channel_name(channel_id: str) -> str:
    if channel_id.startswith("D"):
        return "directmessage"
    return _KNOWN_CHANNELS.get(channel_id, f"channel-{channel_id.lower()}")


def _response_url(
    kind: str,
    standin: SlackStandIn | None,
    team_id: str,
    *,
    channel: str | None,
    user: str | None,
    message_ts: str | None = None,
) -> str:
    if standin is not None:
        return standin.new_response_url(channel=channel, user=user, message_ts=message_ts)
    return f"https://hooks.slack.com/{kind}/{team_id}/{next(_seq):013d}/{uuid.uuid4().hex[:24]}"


def _user(user_id: str, user_name: str | None, team_id: str) -> dict[str, Any]:
    name = user_name or _user_name(user_id)
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _team(team_id: str, team_domain: str) -> dict[str, Any]:
    return {"id": team_id, "domain": team_domain}


# ==================================================================== slash commands
def slash_command_form(
    text: str = "",
    *,
    command: str = "/cm",
    user_id: str = k.USER_ID,
    user_name: str | None = None,
    channel_id: str = k.CHANNEL_ID,
    channel_name: str | None = None,
    team_id: str = k.TEAM_ID,
    team_domain: str = k.TEAM_DOMAIN,
    api_app_id: str = k.APP_ID,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    standin: SlackStandIn | None = None,
    locale: str | None = None,
) -> dict[str, str]:
    """The form fields of a slash command, as Slack posts them.

    All the fields of ``SlashCommandPayload.json`` are present, except
    ``enterprise_id``/``enterprise_name``, which Slack sends only from an Enterprise
    Grid workspace (pass ``enterprise_id`` to include them).

    Args:
        standin: when given, ``response_url`` points at it (bound to the channel and
            user, so ``respond()`` output lands in ``standin.responses()`` and
            ``standin.ephemerals()``/``messages_in()``).
        locale: Slack does not put the user's locale in the payload; the app has to
            read it with ``users.info(include_locale=True)``. So this configures that
            user's locale on ``standin`` (required with ``locale``).
    """
    if locale is not None:
        if standin is None:
            raise TypeError("locale= needs standin=: the app reads it with users.info")
        standin.set_user(user_id, locale=locale)
    form = {
        "token": k.VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name or _channel_name(channel_id),
        "user_id": user_id,
        "user_name": user_name or _user_name(user_id),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url
        or _response_url("commands", standin, team_id, channel=channel_id, user=user_id),
        "trigger_id": trigger_id or _trigger_for(standin),
    }
    if enterprise_id is not None:
        form["enterprise_id"] = enterprise_id
        form["enterprise_name"] = enterprise_name or "Vigie Grid"
    return form


def _timed(kind: str, standin: SlackStandIn | None,
           send: Callable[[], httpx.Response]) -> httpx.Response:
    """Send, and tell ``standin`` how long the app took to answer: past
    :data:`~tests.harness.constants.ACK_DEADLINE_SECONDS` Slack showed the user an error
    instead of the answer (the stand-in's rule 14, :meth:`SlackStandIn.timeouts`)."""
    started = time.monotonic()
    response = send()
    if standin is not None:
        standin.record_answer(kind, time.monotonic() - started)
    return response


def slash_command(base_url: str, secret: str, text: str = "", **options: Any) -> httpx.Response:
    """Send a signed slash command (``/cm <text>`` by default) to the app; with ``standin``,
    an answer later than Slack's 3 seconds is one the user saw fail
    (:meth:`SlackStandIn.timeouts`).

    ``options``: the keyword arguments of :func:`slash_command_form` (``command``,
    ``user_id``, ``channel_id``, ``team_id``, ``locale``, ``standin``...) and of
    :func:`post` (``bad_signature``, ``stale_timestamp``...).
    """
    delivery = _delivery(options)
    body = urlencode(slash_command_form(text, **options))
    return _timed("slash_command", options.get("standin"), lambda: post(
        base_url, secret, body, content_type=FORM_CONTENT_TYPE, **delivery))


# ===================================================================== block actions
def find_element(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None = None
) -> tuple[str | None, dict[str, Any]] | None:
    """Find the interactive element ``action_id`` in ``blocks``.

    Looks in ``actions`` elements, ``section`` accessories and ``input`` elements.
    Returns ``(block_id, element)`` or ``None``.
    """
    for block in blocks or []:
        if not isinstance(block, dict) or (block_id and block.get("block_id") != block_id):
            continue
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                candidates.append(block[key])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id"), element
    return None


def _all_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _option(element: dict[str, Any], value: str) -> dict[str, Any]:
    for option in _all_options(element):
        if option.get("value") == value:
            return json.loads(json.dumps(option))
    if element.get("options") or element.get("option_groups"):
        raise ValueError(f"no option with value {value!r} in {element.get('action_id')!r}")
    return {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}


def _action(
    element: dict[str, Any],
    *,
    action_id: str,
    block_id: str,
    action_type: str | None,
    value: str | None,
    selected: Any,
) -> dict[str, Any]:
    kind = action_type or element.get("type") or "button"
    action: dict[str, Any] = {"type": kind, "action_id": action_id, "block_id": block_id}
    choice = selected if selected is not None else value
    if kind == "button":
        action["text"] = element.get("text") or {"type": "plain_text", "text": "OK", "emoji": True}
        button_value = value if value is not None else element.get("value")
        if button_value is not None:
            action["value"] = button_value
        if element.get("style"):
            action["style"] = element["style"]
    elif kind in _SINGLE_OPTION:
        if choice is None:
            raise ValueError(f"{kind} {action_id!r}: pass selected= (an option value)")
        action["selected_option"] = _option(element, str(choice))
    elif kind in _MULTI_OPTION:
        values = [choice] if isinstance(choice, str) else list(choice or [])
        action["selected_options"] = [_option(element, str(v)) for v in values]
    elif kind in _SELECTED_KEY:
        action[_SELECTED_KEY[kind]] = choice
    else:
        action["value"] = choice
    if element.get("placeholder") and kind != "button":
        action["placeholder"] = element["placeholder"]
    action["action_ts"] = _action_ts()
    return action


def block_action_payload(
    action_id: str,
    *,
    value: str | None = None,
    selected: Any = None,
    block_id: str | None = None,
    action_type: str | None = None,
    action: dict[str, Any] | None = None,
    message_ts: str | None = None,
    message: dict[str, Any] | None = None,
    view_id: str | None = None,
    view: dict[str, Any] | None = None,
    state_values: dict[str, Any] | None = None,
    standin: SlackStandIn | None = None,
    user_id: str = k.USER_ID,
    user_name: str | None = None,
    channel_id: str = k.CHANNEL_ID,
    channel_name: str | None = None,
    team_id: str = k.TEAM_ID,
    team_domain: str = k.TEAM_DOMAIN,
    api_app_id: str = k.APP_ID,
    trigger_id: str | None = None,
    response_url: str | None = None,
    is_ephemeral: bool = False,
    user_team_id: str | None = None,
) -> dict[str, Any]:
    """A ``block_actions`` payload: ``user_id`` used element ``action_id``.

    ``user_team_id``: the user is of another workspace (:data:`SLACK_CONNECT`).

    Where the element lives:
        * ``message_ts`` + ``standin``: the message the app posted in ``channel_id``
          (as the stand-in stores it, with Slack-assigned ``block_id``s);
        * ``message``: a message dict you supply (needs ``ts``);
        * ``view_id`` + ``standin`` or ``view``: a modal/home view (container ``view``;
          no channel, message or response URL, as Slack does);
        * none of those: a synthetic one-button message.

    The element's type, ``block_id``, text, value and options come from the real
    blocks; a ``ValueError`` is raised when ``action_id`` is not in them (the test is
    clicking something the app never showed).

    Args:
        value: for buttons, overrides the element's ``value``; for other elements,
            same as ``selected``.
        selected: the chosen option value(s) for selects/overflow/radio/checkboxes,
            or the user/conversation/channel id, date (``YYYY-MM-DD``) or time.
        action: keys merged into the action last (escape hatch).
        state_values: ``state.values`` of the surface (inputs' current values).
    """
    if view_id is not None and view is None:
        if standin is None:
            raise TypeError("view_id= needs standin=")
        view = standin.view(view_id)
    if view is None and message is None and message_ts is not None:
        if standin is None:
            raise TypeError("message_ts= needs standin= (or pass message=)")
        message = standin.message(channel_id, message_ts)
        if message is None:
            raise ValueError(f"no message {message_ts} in {channel_id} on the stand-in")

    synthetic = view is None and message is None
    if synthetic:
        element = {
            "type": action_type or "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": "OK", "emoji": True},
        }
        if value is not None:
            element["value"] = value
        message = {
            "type": "message",
            "user": k.BOT_USER_ID,
            "bot_id": k.BOT_ID,
            "app_id": api_app_id,
            "team": team_id,
            "text": "",
            "ts": k.FIRST_TS,
            "blocks": [
                {"type": "actions", "block_id": block_id or "actions", "elements": [element]}
            ],
        }
    surface = view if view is not None else message
    assert surface is not None
    found = find_element(surface.get("blocks") or [], action_id, block_id)
    if found is None:
        where = f"view {surface.get('id')}" if view is not None else f"message {surface.get('ts')}"
        raise ValueError(f"no element with action_id {action_id!r} in {where}")
    found_block_id, element = found
    act = _action(
        element,
        action_id=action_id,
        block_id=block_id or found_block_id or "",
        action_type=action_type,
        value=value,
        selected=selected,
    )
    act.update(action or {})

    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name, user_team_id or team_id),
        "api_app_id": api_app_id,
        "token": k.VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _trigger_for(standin),
        "team": _team(team_id, team_domain),
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id")}
        view = dict(view)
        view["state"] = {"values": state_values or {}}
        payload["view"] = view
    else:
        assert message is not None
        ts = str(message.get("ts"))
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        }
        payload["channel"] = {"id": channel_id, "name": channel_name or _channel_name(channel_id)}
        if not is_ephemeral:
            payload["message"] = message
        payload["state"] = {"values": state_values or {}}
        payload["response_url"] = response_url or _response_url(
            "actions",
            standin,
            team_id,
            channel=channel_id,
            user=user_id,
            message_ts=None if is_ephemeral else ts,
        )
    payload["actions"] = [act]
    return payload


def block_action(base_url: str, secret: str, action_id: str, **options: Any) -> httpx.Response:
    """Send a signed ``block_actions`` payload (see :func:`block_action_payload`)."""
    delivery = _delivery(options)
    payload = block_action_payload(action_id, **options)
    return post_payload(base_url, secret, payload, standin=options.get("standin"), **delivery)


def post_payload(
    base_url: str, secret: str, payload: dict[str, Any], *,
    standin: SlackStandIn | None = None, **delivery: Any
) -> httpx.Response:
    """Send an interactivity ``payload`` as Slack does: form field ``payload=<JSON>``. With
    ``standin``, an answer later than Slack's 3 seconds is one the user saw fail
    (:meth:`SlackStandIn.timeouts`); a ``view_closed`` has no one waiting for it."""
    body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
    kind = str(payload.get("type") or "")
    return _timed(kind, standin if kind != "view_closed" else None, lambda: post(
        base_url, secret, body, content_type=FORM_CONTENT_TYPE, **delivery))


# ==================================================================== views
def state_values_for(
    view: dict[str, Any] | None, values: dict[str, dict[str, Any]] | None
) -> dict[str, dict[str, Any]]:
    """Build ``view.state.values`` from ``{block_id: {action_id: value}}``.

    A value that is a dict is used as is (``{"type": ..., "value": ...}``). A plain
    value is wrapped according to the element type found in ``view`` (a string for
    text inputs, an option value for selects and radio buttons, a list of option values
    for checkboxes and multi-selects, an id for user/conversation selects, a date or
    time string for pickers); without a view, text input is assumed.

    With a ``view``, every input block appears, as in Slack's payload: an input shows
    what the user typed into it (the view's ``state.values``, see
    ``SlackStandIn.type_into``), else its text ``initial_value``, else ``None``; naming an
    input the view does not have raises ``ValueError``.
    """
    values = values or {}
    out: dict[str, dict[str, Any]] = {}
    blocks = (view or {}).get("blocks") or []
    inputs = {
        (b.get("block_id"), b["element"].get("action_id")): b["element"]
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "input" and isinstance(b.get("element"), dict)
    }
    if view is not None:
        typed = ((view.get("state") or {}).get("values")) or {}
        for (bid, aid), element in inputs.items():
            state = (typed.get(bid) or {}).get(aid)
            if state is None:
                state = _empty_state(element)
                if state.get("value", "") is None and element.get("initial_value"):
                    state["value"] = element["initial_value"]
            out.setdefault(str(bid), {})[str(aid)] = state
    for bid, actions in values.items():
        for aid, raw in actions.items():
            element = inputs.get((bid, aid))
            if view is not None and element is None:
                raise ValueError(f"view {view.get('id')} has no input {bid}/{aid}")
            out.setdefault(bid, {})[aid] = (
                raw if isinstance(raw, dict) else _state_value(element or {}, raw)
            )
    return out


def _empty_state(element: dict[str, Any]) -> dict[str, Any]:
    kind = element.get("type", "plain_text_input")
    if kind in _SINGLE_OPTION:
        return {"type": kind, "selected_option": None}
    if kind in _MULTI_OPTION:
        return {"type": kind, "selected_options": []}
    if kind in _SELECTED_KEY:
        empty: Any = [] if kind.startswith("multi_") else None
        return {"type": kind, _SELECTED_KEY[kind]: empty}
    return {"type": kind, "value": None}


def _state_value(element: dict[str, Any], raw: Any) -> dict[str, Any]:
    kind = element.get("type", "plain_text_input")
    if kind in _SINGLE_OPTION:
        return {"type": kind, "selected_option": _option(element, str(raw))}
    if kind in _MULTI_OPTION:
        values = [raw] if isinstance(raw, str) else list(raw)
        return {"type": kind, "selected_options": [_option(element, str(v)) for v in values]}
    if kind in _SELECTED_KEY:
        return {"type": kind, _SELECTED_KEY[kind]: raw}
    return {"type": kind, "value": raw}


def _view_for(
    *,
    view: dict[str, Any] | None,
    view_id: str | None,
    standin: SlackStandIn | None,
    callback_id: str | None,
    private_metadata: str | None,
    team_id: str,
    api_app_id: str,
) -> dict[str, Any]:
    if view is None and view_id is not None:
        if standin is None:
            raise TypeError("view_id= needs standin=")
        view = standin.view(view_id)
    if view is None:
        n = next(_seq)
        view = {
            "id": f"V{n:010d}",
            "team_id": team_id,
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "hash": f"1700000000.{n:08x}",
            "title": {"type": "plain_text", "text": "Vigie", "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None,
            "root_view_id": f"V{n:010d}",
            "app_id": api_app_id,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": k.BOT_ID,
        }
    else:
        view = json.loads(json.dumps(view))
    if callback_id is not None:
        view["callback_id"] = callback_id
    if private_metadata is not None:
        view["private_metadata"] = private_metadata
    return view


def view_submission_payload(
    callback_id: str | None = None,
    values: dict[str, dict[str, Any]] | None = None,
    *,
    private_metadata: str | None = None,
    view_id: str | None = None,
    view: dict[str, Any] | None = None,
    standin: SlackStandIn | None = None,
    user_id: str = k.USER_ID,
    user_name: str | None = None,
    team_id: str = k.TEAM_ID,
    team_domain: str = k.TEAM_DOMAIN,
    api_app_id: str = k.APP_ID,
    trigger_id: str | None = None,
    response_urls: list[dict[str, Any]] | None = None,
    user_team_id: str | None = None,
) -> dict[str, Any]:
    """A ``view_submission`` payload: ``user_id`` pressed the modal's submit button.

    ``user_team_id``: the user is of another workspace (:data:`SLACK_CONNECT`): ``team``
    and ``user.team_id`` are theirs, ``view.app_installed_team_id`` stays ``team_id``.

    Args:
        callback_id / private_metadata: override the view's (required without a view).
        values: ``{block_id: {action_id: value}}``; see :func:`state_values_for`.
        view_id + standin: submit the view the app opened (its blocks, callback_id,
            private_metadata, hash...). ``view``: a view dict you supply.
        response_urls: only for modals with ``response_url_enabled`` selects.
    """
    the_view = _view_for(
        view=view,
        view_id=view_id,
        standin=standin,
        callback_id=callback_id,
        private_metadata=private_metadata,
        team_id=team_id,
        api_app_id=api_app_id,
    )
    known_view = view is not None or view_id is not None
    the_view["state"] = {"values": state_values_for(the_view if known_view else None, values)}
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": _team(user_team_id or team_id, team_domain),
        "user": _user(user_id, user_name, user_team_id or team_id),
        "api_app_id": api_app_id,
        "token": k.VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _trigger_for(standin),
        "view": the_view,
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if response_urls is not None:
        payload["response_urls"] = response_urls
    return payload


def view_submission(base_url: str, secret: str, *args: Any, **options: Any) -> httpx.Response:
    """Send a signed ``view_submission`` (see :func:`view_submission_payload`)."""
    delivery = _delivery(options)
    return post_payload(base_url, secret, view_submission_payload(*args, **options),
                        standin=options.get("standin"), **delivery)


def view_closed_payload(
    *,
    view_id: str | None = None,
    view: dict[str, Any] | None = None,
    standin: SlackStandIn | None = None,
    callback_id: str | None = None,
    private_metadata: str | None = None,
    is_cleared: bool = False,
    user_id: str = k.USER_ID,
    user_name: str | None = None,
    team_id: str = k.TEAM_ID,
    team_domain: str = k.TEAM_DOMAIN,
    api_app_id: str = k.APP_ID,
) -> dict[str, Any]:
    """A ``view_closed`` payload (sent only for views opened with ``notify_on_close``)."""
    the_view = _view_for(
        view=view,
        view_id=view_id,
        standin=standin,
        callback_id=callback_id,
        private_metadata=private_metadata,
        team_id=team_id,
        api_app_id=api_app_id,
    )
    return {
        "type": "view_closed",
        "team": _team(team_id, team_domain),
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": k.VERIFICATION_TOKEN,
        "view": the_view,
        "is_cleared": is_cleared,
        "enterprise": None,
        "is_enterprise_install": False,
    }


def view_closed(base_url: str, secret: str, **options: Any) -> httpx.Response:
    """Send a signed ``view_closed`` (see :func:`view_closed_payload`)."""
    delivery = _delivery(options)
    return post_payload(base_url, secret, view_closed_payload(**options), **delivery)


# ==================================================================== Events API
def event_envelope(
    event: dict[str, Any],
    *,
    team_id: str = k.TEAM_ID,
    api_app_id: str = k.APP_ID,
    event_id: str | None = None,
    event_time: int | None = None,
    authed_user_id: str = k.BOT_USER_ID,
    enterprise_id: str | None = None,
    authorized: bool = True,
) -> dict[str, Any]:
    """Wrap ``event`` in the ``event_callback`` envelope Slack posts.

    Follows ``slack_common_event_wrapper_schema.json`` (token, team_id, api_app_id,
    event, type, event_id, event_time, authed_users) plus the ``authorizations``,
    ``is_ext_shared_channel`` and ``event_context`` fields Slack adds today.
    ``event_ts`` is filled in when missing.

    ``enterprise_id``: an event of workspace ``team_id`` of that Enterprise Grid org: the
    envelope's ``team_id`` is the org's ``E…`` id, ``context_team_id`` the workspace.
    ``authorized=False``: no ``authorizations``, as Slack sends "most events" with them
    only (https://api.slack.com/enterprise/apps/changes-apis); the examples of
    ``app_uninstalled`` and ``tokens_revoked`` carry none
    (https://docs.slack.dev/reference/events/app_uninstalled,
    https://docs.slack.dev/reference/events/tokens_revoked).
    """
    envelope = _envelope(event, team_id=team_id, api_app_id=api_app_id, event_id=event_id,
                         event_time=event_time, authed_user_id=authed_user_id)
    if enterprise_id is not None:
        envelope["team_id"] = envelope["enterprise_id"] = enterprise_id
        envelope["context_enterprise_id"] = enterprise_id
        envelope["authorizations"][0]["enterprise_id"] = enterprise_id
    if not authorized:
        del envelope["authorizations"]
    return envelope


def _envelope(event: dict[str, Any], *, team_id: str, api_app_id: str,
              event_id: str | None, event_time: int | None,
              authed_user_id: str) -> dict[str, Any]:
    now = time.time()
    event = dict(event)
    event.setdefault("event_ts", f"{now:.6f}")
    return {
        "token": k.VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_seq):08d}{uuid.uuid4().hex[:4].upper()}",
        "event_time": event_time or int(now),
        "authed_users": [authed_user_id],
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": authed_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-" + uuid.uuid4().hex,
    }


def event(
    base_url: str,
    secret: str,
    event: dict[str, Any],
    *,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    **options: Any,
) -> httpx.Response:
    """Send a signed Events API ``event_callback`` carrying ``event``.

    ``retry_num`` adds Slack's ``X-Slack-Retry-Num``/``X-Slack-Retry-Reason`` headers,
    as on redeliveries (reuse the same ``event_id`` to test de-duplication).
    ``options``: :func:`event_envelope` and :func:`post` keyword arguments.
    """
    delivery = _delivery(options)
    if retry_num is not None:
        delivery["headers"] = {
            **delivery.get("headers", {}),
            "X-Slack-Retry-Num": str(retry_num),
            "X-Slack-Retry-Reason": retry_reason,
        }
    body = json.dumps(event_envelope(event, **options), ensure_ascii=False)
    return post(base_url, secret, body, content_type=JSON_CONTENT_TYPE, **delivery)


def app_home_opened_event(
    user_id: str = k.USER_ID,
    *,
    channel_id: str = "D07VIGIEHOME",
    tab: str = "home",
    view: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An ``app_home_opened`` event (``view`` is the home view last published, if any)."""
    out: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": channel_id,
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        out["view"] = view
    return out


def app_home_opened(
    base_url: str,
    secret: str,
    user_id: str = k.USER_ID,
    *,
    standin: SlackStandIn | None = None,
    **options: Any,
) -> httpx.Response:
    """Send ``app_home_opened`` for ``user_id`` (with the home view from ``standin``)."""
    view = standin.home_view(user_id) if standin is not None else None
    return event(base_url, secret, app_home_opened_event(user_id, view=view), **options)


def url_verification(
    base_url: str, secret: str, challenge: str | None = None, **delivery: Any
) -> httpx.Response:
    """Send the ``url_verification`` challenge Slack posts when the URL is configured."""
    body = json.dumps(
        {
            "token": k.VERIFICATION_TOKEN,
            "challenge": challenge or uuid.uuid4().hex,
            "type": "url_verification",
        }
    )
    return post(base_url, secret, body, content_type=JSON_CONTENT_TYPE, **delivery)


# ==================================================================== bound sender
class SlackSender:
    """The request helpers bound to one app URL, secret, stand-in and default actor.

    Example::

        slack = SlackSender(app_url, SIGNING_SECRET, standin=standin)
        assert slack.slash_command("help").status_code == 200
        card = standin.messages_in(CHANNEL_ID)[-1]
        slack.block_action("approve", message_ts=card["ts"])
    """

    def __init__(
        self,
        base_url: str,
        secret: str = k.SIGNING_SECRET,
        *,
        standin: SlackStandIn | None = None,
        user_id: str = k.USER_ID,
        team_id: str = k.TEAM_ID,
        channel_id: str = k.CHANNEL_ID,
        path: str = EVENTS_PATH,
    ) -> None:
        self.base_url = base_url
        self.secret = secret
        self.standin = standin
        self.user_id = user_id
        self.team_id = team_id
        self.channel_id = channel_id
        self.path = path

    def _defaults(self, options: dict[str, Any], *, channel: bool = True) -> dict[str, Any]:
        options.setdefault("standin", self.standin)
        options.setdefault("user_id", self.user_id)
        options.setdefault("team_id", self.team_id)
        options.setdefault("path", self.path)
        if channel:
            options.setdefault("channel_id", self.channel_id)
        return options

    def slash_command(self, text: str = "", **options: Any) -> httpx.Response:
        """See :func:`slash_command`."""
        return slash_command(self.base_url, self.secret, text, **self._defaults(options))

    def command_answer(self, text: str = "", *, timeout: float = 15.0,
                       **options: Any) -> dict[str, Any]:
        """Send a slash command (as :meth:`slash_command`) and return its answer as the user
        sees it: the ack's body, or, when the app acknowledged empty, the first message it
        posts to the command's response URL (waiting up to ``timeout`` seconds for it).

        An app may answer either way within Slack's rules: Vigie acknowledges a command
        empty when its answer is not ready within its own budget
        (``handlers.commands.ACK_BUDGET_SECONDS``, e.g. on a loaded machine) and posts the
        answer to the response URL. A test about what a command says reads it here; a test
        about how it is delivered reads the response and ``standin.responses()`` itself."""
        standin = options.get("standin", self.standin)
        if standin is None:
            raise ValueError("command_answer needs the stand-in that serves response URLs")
        response = self.slash_command(text, **options)
        response.raise_for_status()
        if response.content:
            answer: dict[str, Any] = response.json()
            return answer
        url = parse_qs(response.request.content.decode())["response_url"][0]
        standin.wait_until(lambda s: bool(s.responses(url)), timeout=timeout)
        return standin.responses(url)[0]

    def block_action(self, action_id: str, **options: Any) -> httpx.Response:
        """See :func:`block_action`."""
        return block_action(self.base_url, self.secret, action_id, **self._defaults(options))

    def view_submission(self, *args: Any, **options: Any) -> httpx.Response:
        """See :func:`view_submission`."""
        opts = self._defaults(options, channel=False)
        return view_submission(self.base_url, self.secret, *args, **opts)

    def view_closed(self, **options: Any) -> httpx.Response:
        """See :func:`view_closed`."""
        opts = self._defaults(options, channel=False)
        return view_closed(self.base_url, self.secret, **opts)

    def event(self, event_: dict[str, Any], **options: Any) -> httpx.Response:
        """See :func:`event`."""
        options.setdefault("team_id", self.team_id)
        options.setdefault("path", self.path)
        return event(self.base_url, self.secret, event_, **options)

    def app_home_opened(self, user_id: str | None = None, **options: Any) -> httpx.Response:
        """See :func:`app_home_opened`."""
        options.setdefault("standin", self.standin)
        options.setdefault("path", self.path)
        return app_home_opened(self.base_url, self.secret, user_id or self.user_id, **options)

    def url_verification(self, challenge: str | None = None, **delivery: Any) -> httpx.Response:
        """See :func:`url_verification`."""
        delivery.setdefault("path", self.path)
        return url_verification(self.base_url, self.secret, challenge, **delivery)
