"""The agents' phone codes as a table of cases (``routing_rules.routing.phone_code``), and the
French confirmation each one plays (``telephony.flow.codes.confirmation``)."""

from __future__ import annotations

import textwrap
from types import MappingProxyType

import pytest

from ivr_prompts.catalogue import load_catalogue
from routing_rules.agents import AgentsView, DeviceState, Presence
from routing_rules.compiled import CompiledRules
from routing_rules.loader import validate_text
from routing_rules.routing import PhoneCode, Said, phone_code
from telephony.flow.codes import AND_PROMPT, NUMBERED_PROMPT, SAID_PROMPTS, confirmation

RULES = textwrap.dedent(
    """\
    settings:
      invalid_prompt: p
    services:
      front:
        name: Accueil
        tag: ACCUEIL
        name_prompt: n_front
        agents: [PJSIP/1001, PJSIP/1002]
        rings: 4
        overflow: {otherwise: {message: p}}
      social:
        name: CCAS
        tag: CCAS
        name_prompt: n_social
        agents: [PJSIP/1002, PJSIP/1101]
        rings: 4
        overflow: {otherwise: {message: p}}
      water:
        name: Eau
        tag: EAU
        agents: [PJSIP/1002, PJSIP/1301]
        rings: 4
        overflow: {otherwise: {message: p}}
    menus:
      m:
        prompt: p
        keys: {"1": {service: front}}
        fallback: {service: front}
    entry:
      - menu: m
    """
)
RULES_FILE = validate_text(RULES, "codes.yaml", {"p", "n_front", "n_social"})
assert isinstance(RULES_FILE, CompiledRules)
IN, OUT, PAUSED = Presence.SIGNED_IN, Presence.SIGNED_OUT, Presence.PAUSED


def view(**presence: Presence) -> AgentsView:
    """PJSIP/1002's presence per service (``front=PAUSED``...); signed in elsewhere."""
    return AgentsView(
        devices=MappingProxyType({"PJSIP/1002": DeviceState.NOT_INUSE}),
        presence=MappingProxyType({(s, "PJSIP/1002"): p for s, p in presence.items()}),
    )


CASES = [
    # (case, endpoint, code, service number, presence of 1002, said, services, changes)
    ("sign in everywhere", "PJSIP/1002", PhoneCode.SIGN_IN, None, {"front": PAUSED},
     Said.SIGNED_IN, ("front", "social", "water"),
     (("front", IN), ("social", IN), ("water", IN))),
    ("sign in to service 2 only", "PJSIP/1002", PhoneCode.SIGN_IN, "2", {"social": OUT},
     Said.SIGNED_IN, ("social",), (("social", IN),)),
    ("sign out everywhere", "PJSIP/1002", PhoneCode.SIGN_OUT, None, {},
     Said.SIGNED_OUT, ("front", "social", "water"),
     (("front", OUT), ("social", OUT), ("water", OUT))),
    ("pause: signed in everywhere", "PJSIP/1002", PhoneCode.PAUSE, None, {},
     Said.PAUSED, ("front", "social", "water"),
     (("front", PAUSED), ("social", PAUSED), ("water", PAUSED))),
    ("pause again: the pause ends", "PJSIP/1002", PhoneCode.PAUSE, None,
     {"front": PAUSED, "social": PAUSED, "water": PAUSED},
     Said.PAUSE_ENDED, ("front", "social", "water"),
     (("front", IN), ("social", IN), ("water", IN))),
    ("pause while paused in some: all paused", "PJSIP/1002", PhoneCode.PAUSE, None,
     {"front": PAUSED}, Said.PAUSED, ("front", "social", "water"),
     (("front", PAUSED), ("social", PAUSED), ("water", PAUSED))),
    ("signed-out services stay signed out", "PJSIP/1002", PhoneCode.PAUSE, None,
     {"front": OUT, "social": PAUSED, "water": PAUSED},
     Said.PAUSE_ENDED, ("social", "water"), (("social", IN), ("water", IN))),
    ("pause while signed out everywhere", "PJSIP/1002", PhoneCode.PAUSE, None,
     {"front": OUT, "social": OUT, "water": OUT}, Said.NOT_SIGNED_IN,
     ("front", "social", "water"), ()),
    ("pause one service", "PJSIP/1002", PhoneCode.PAUSE, "3", {"front": PAUSED},
     Said.PAUSED, ("water",), (("water", PAUSED),)),
    ("a phone in no service", "PJSIP/9999", PhoneCode.SIGN_IN, None, {},
     Said.NO_SERVICE, (), ()),
    ("no such service number", "PJSIP/1002", PhoneCode.SIGN_IN, "4", {},
     Said.UNKNOWN_SERVICE, (), ()),
    ("service 0", "PJSIP/1002", PhoneCode.SIGN_OUT, "0", {}, Said.UNKNOWN_SERVICE, (), ()),
    ("a service that does not list the phone", "PJSIP/1101", PhoneCode.SIGN_IN, "1", {},
     Said.NOT_IN_SERVICE, (), ()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("endpoint", "code", "number", "presence", "said", "services", "changes"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_phone_code(
    endpoint: str,
    code: PhoneCode,
    number: str | None,
    presence: dict[str, Presence],
    said: Said,
    services: tuple[str, ...],
    changes: tuple[tuple[str, Presence], ...],
) -> None:
    answer = phone_code(RULES_FILE, endpoint, code, number, view(**presence))
    assert (answer.said, answer.services, answer.changes) == (said, services, changes)
    assert said.value in answer.why


def test_the_confirmation_names_each_service_the_last_after_and() -> None:
    paused = phone_code(RULES_FILE, "PJSIP/1002", PhoneCode.PAUSE, None, view())
    # "water" has no name prompt: "le service numéro" and its number, said by Asterisk.
    assert confirmation(RULES_FILE, paused) == [
        "agent_en_pause", "n_front", "n_social", AND_PROMPT, NUMBERED_PROMPT, "number:3",
    ]  # fmt: skip
    one = phone_code(RULES_FILE, "PJSIP/1002", PhoneCode.SIGN_OUT, "2", view())
    assert confirmation(RULES_FILE, one) == ["agent_deconnecte", "n_social"]
    refused = phone_code(RULES_FILE, "PJSIP/1002", PhoneCode.SIGN_IN, "7", view())
    assert confirmation(RULES_FILE, refused) == ["agent_service_inconnu"]


def test_every_confirmation_prompt_is_in_the_catalogue() -> None:
    catalogue = load_catalogue()
    fixed = {*SAID_PROMPTS.values(), AND_PROMPT, NUMBERED_PROMPT}
    assert fixed <= catalogue.keys(), fixed - catalogue.keys()
    assert set(SAID_PROMPTS) == set(Said)
