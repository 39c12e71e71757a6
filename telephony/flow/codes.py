"""An agent's phone code (``*51``, ``*52``, ``*53``): carry out the decision, then say it.

``routing_rules.routing.phone_code`` decides what the code does to the agent's sign-in; this
module applies the changes to the agents' state, answers the phone, says in French what was done
(« Vous êtes en pause pour » + each service's name, ``name_prompt`` in the rules), and hangs up
once the confirmation has played (a phone hanging up first ends it earlier; the change stays).
"""

from __future__ import annotations

from collections.abc import Sequence

from routing_rules.compiled import CompiledRules
from routing_rules.routing import CodeAnswer, Said
from telephony.flow.agents import AgentTracker
from telephony.flow.session import CallerHungUp, CallSession

# What the phone hears first, for each answer (ivr_prompts/fr.yaml).
SAID_PROMPTS: dict[Said, str] = {
    Said.SIGNED_IN: "agent_connecte",
    Said.SIGNED_OUT: "agent_deconnecte",
    Said.PAUSED: "agent_en_pause",
    Said.PAUSE_ENDED: "agent_fin_pause",
    Said.NOT_SIGNED_IN: "agent_pas_connecte",
    Said.NO_SERVICE: "agent_aucun_service",
    Said.UNKNOWN_SERVICE: "agent_service_inconnu",
    Said.NOT_IN_SERVICE: "agent_hors_service",
}
# Joins the last two services' names; said before a service's number when it has no name prompt.
AND_PROMPT = "agent_et"
NUMBERED_PROMPT = "agent_service_numero"
# The answers that name the services they changed.
_NAMING = frozenset({Said.SIGNED_IN, Said.SIGNED_OUT, Said.PAUSED, Said.PAUSE_ENDED})


def confirmation(rules: CompiledRules, answer: CodeAnswer) -> list[str]:
    """The prompts (ids, or media for a number) that say what the code did."""
    prompts = [SAID_PROMPTS[answer.said]]
    if answer.said not in _NAMING:
        return prompts
    order = list(rules.services)
    for position, service_id in enumerate(answer.services):
        if position and position == len(answer.services) - 1:
            prompts.append(AND_PROMPT)
        prompts += _name_of(rules, service_id, order)
    return prompts


def _name_of(rules: CompiledRules, service_id: str, order: Sequence[str]) -> list[str]:
    name = rules.services[service_id].name_prompt
    if name:
        return [name]
    # Asterisk says the number in the channel's language (its French core sounds).
    return [NUMBERED_PROMPT, f"number:{order.index(service_id) + 1}"]


async def carry_out(
    session: CallSession,
    rules: CompiledRules,
    agents: AgentTracker,
    endpoint: str,
    answer: CodeAnswer,
) -> None:
    """Apply the answer to the agents' state, then tell the phone; the caller of this function
    hangs the phone up (``session.cleanup``)."""
    for service_id, presence in answer.changes:
        agents.set_presence(service_id, endpoint, presence)
    try:
        await session.answer()
        await session.play(confirmation(rules, answer), barge_in=False)
    except CallerHungUp:
        return  # the agent did not wait for the confirmation: the change is made all the same
