"""The IVR state machine: sequences of inputs -> actions and notes, every branch."""

from __future__ import annotations

import textwrap

import pytest

from routing_rules.errors import RoutingInputError, UnknownTarget
from routing_rules.ivr import (
    EndWithMessage,
    GoToService,
    IvrState,
    Key,
    NoteKind,
    Phase,
    Play,
    PromptFinished,
    StartCallback,
    Timeout,
    WaitForKey,
    ivr_next,
    ivr_start,
)
from routing_rules.loader import validate_text

PROMPTS = {"hello", "menu", "sub", "invalid", "silence", "bye", "cb", "cb_thanks", "sub_invalid"}

RULES = validate_text(
    textwrap.dedent(
        """\
        settings:
          invalid_prompt: invalid
          timeout_prompt: silence
        services:
          a:
            name: A
            tag: A
            agents: [PJSIP/1]
            rings: 2
            overflow:
              otherwise: {message: bye}
        menus:
          main:
            greeting: hello
            prompt: menu
            timeout_s: 4
            retries: 1
            keys:
              "1": {service: a}
              "2": {menu: sub}
              "3": {message: bye}
              "4": {callback: cb, number: presented, thanks_prompt: cb_thanks}
            fallback: {service: a}
          sub:
            prompt: sub
            retries: 0
            repeat_key: "#"
            invalid_prompt: sub_invalid
            keys:
              "9": {menu: main}
            fallback: {message: bye}
        entry:
          - menu: main
        """
    ),
    "ivr.yaml",
    PROMPTS,
)

F, T = PromptFinished(), Timeout()

# (id, inputs, expected actions of the LAST step, expected final state or None, notes of all)
CASES = [
    ("prompt_then_wait", [F], (WaitForKey(4.0),), IvrState("main", 0, Phase.WAITING), []),
    ("key_to_service", [F, Key("1")], (GoToService("a"),), None, [("key", "1")]),
    ("barge_in_during_prompt", [Key("1")], (GoToService("a"),), None, [("key", "1")]),
    (
        "key_to_submenu_no_greeting",
        [F, Key("2")],
        (Play(("sub",)),),
        IvrState("sub"),
        [("key", "2"), ("menu", None)],
    ),
    ("key_to_message", [Key("3")], (EndWithMessage("bye"),), None, [("key", "3")]),
    (
        "invalid_then_retry",
        [F, Key("7")],
        (Play(("invalid", "menu")),),
        IvrState("main", 1),
        [("invalid", "7")],
    ),
    (
        "timeout_then_retry",
        [F, T],
        (Play(("silence", "menu")),),
        IvrState("main", 1),
        [("timeout", None)],
    ),
    (
        "retries_exhausted_fallback",
        [F, T, F, Key("8")],
        (GoToService("a"),),
        None,
        [("timeout", None), ("invalid", "8"), ("fallback", None)],
    ),
    ("repeat_key", [F, Key("*")], (Play(("menu",)),), IvrState("main"), [("menu", None)]),
    ("stale_timeout_ignored", [T], (), IvrState("main"), []),
    ("double_prompt_finished", [F, F], (), IvrState("main", 0, Phase.WAITING), []),
    (
        "sub_menu_own_repeat_key_star_invalid",
        [Key("2"), Key("*")],
        (EndWithMessage("bye"),),
        None,
        [("key", "2"), ("menu", None), ("invalid", "*"), ("fallback", None)],
    ),
    (
        "sub_menu_back_to_main",
        [Key("2"), Key("#"), Key("9")],
        (Play(("menu",)),),
        IvrState("main"),
        [("key", "2"), ("menu", None), ("menu", None), ("key", "9"), ("menu", None)],
    ),
]


@pytest.mark.parametrize(
    ("inputs", "actions", "state", "notes"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_ivr(inputs, actions, state, notes):
    step = ivr_start(RULES, "main")
    assert step.actions == (Play(("hello", "menu")),)
    seen = []
    for event in inputs:
        step = ivr_next(RULES, step.state, event)
        seen.extend((n.kind.value, n.key) for n in step.notes)
    assert step.actions == actions
    assert step.state == state
    assert seen == notes
    assert step.why


def test_callback_key_carries_the_callback():
    step = ivr_next(RULES, IvrState("main"), Key("4"))
    (action,) = step.actions
    assert isinstance(action, StartCallback)
    assert action.callback.thanks_prompt == "cb_thanks"
    assert step.state is None


def test_invalid_prompt_of_the_menu_overrides_the_settings():
    step = ivr_next(RULES, IvrState("sub", 0, Phase.WAITING), Key("5"))
    assert step.notes[-1].kind is NoteKind.FALLBACK  # retries: 0
    assert step.actions == (EndWithMessage("bye"),)
    assert RULES.menus["sub"].invalid_prompt == "sub_invalid"


def test_not_a_dtmf_key():
    with pytest.raises(RoutingInputError, match="« 12 » n'est pas une touche"):
        ivr_next(RULES, IvrState("main"), Key("12"))


def test_unknown_menu():
    with pytest.raises(UnknownTarget, match="'nope'"):
        ivr_start(RULES, "nope")
