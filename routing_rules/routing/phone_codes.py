"""The agents' phone codes: what ``*51``, ``*52`` and ``*53`` do to their sign-in, and what the
phone is told.

An agent's phone dialling a code enters decroche with ``agent-login``, ``agent-logout`` or
``agent-pause`` (``asterisk/extensions.conf``), optionally followed by a service's number (the
order of ``services:`` in the rules, 1 = the first). Without a number the code concerns every
service whose agent list names the phone. :func:`phone_code` decides:

- ``*51`` signs the phone in (a pause ends too), ``*52`` signs it out;
- ``*53`` toggles the pause: among the concerned services the agent is signed in to (paused or
  not), if every one is paused the pause ends, otherwise they are all paused. A phone signed out
  everywhere is told so, and nothing changes (a pause is for an agent taking calls);
- a number that is no service, or a service that does not list the phone, changes nothing and
  says why.

The answer names the services it concerns, in the rules' order, for the French confirmation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from routing_rules.agents import AgentsView, Presence
from routing_rules.compiled import CompiledRules, ServiceRules


class PhoneCode(StrEnum):
    """The Stasis argument each code enters with."""

    SIGN_IN = "agent-login"
    SIGN_OUT = "agent-logout"
    PAUSE = "agent-pause"


class Said(StrEnum):
    """What the phone is told (the flow picks the prompt)."""

    SIGNED_IN = "signed_in"
    SIGNED_OUT = "signed_out"
    PAUSED = "paused"
    PAUSE_ENDED = "pause_ended"
    NOT_SIGNED_IN = "not_signed_in"  # *53 while signed out everywhere concerned
    NO_SERVICE = "no_service"  # the phone is in no service of the rules
    UNKNOWN_SERVICE = "unknown_service"  # the number is no service
    NOT_IN_SERVICE = "not_in_service"  # that service does not list the phone


@dataclass(frozen=True, slots=True)
class CodeAnswer:
    said: Said
    services: tuple[str, ...] = ()  # named in the confirmation, in the rules' order
    changes: tuple[tuple[str, Presence], ...] = ()  # (service id, new presence)

    @property
    def why(self) -> str:
        changed = ", ".join(f"{s} -> {p.value}" for s, p in self.changes) or "nothing changes"
        return f"{self.said.value} ({', '.join(self.services) or 'no service'}): {changed}"


def phone_code(
    rules: CompiledRules,
    endpoint: str,
    code: PhoneCode,
    service_number: str | None,
    agents: AgentsView,
) -> CodeAnswer:
    """What ``code`` dialled from ``endpoint`` does (``service_number``: the digits after it)."""
    concerned = _concerned(rules, endpoint, service_number)
    if isinstance(concerned, Said):
        return CodeAnswer(concerned)
    ids = tuple(s.id for s in concerned)
    if code is PhoneCode.SIGN_IN:
        return CodeAnswer(Said.SIGNED_IN, ids, tuple((s, Presence.SIGNED_IN) for s in ids))
    if code is PhoneCode.SIGN_OUT:
        return CodeAnswer(Said.SIGNED_OUT, ids, tuple((s, Presence.SIGNED_OUT) for s in ids))
    taking = [s for s in ids if agents.presence_in(s, endpoint) is not Presence.SIGNED_OUT]
    if not taking:
        return CodeAnswer(Said.NOT_SIGNED_IN, ids)
    if all(agents.presence_in(s, endpoint) is Presence.PAUSED for s in taking):
        return CodeAnswer(
            Said.PAUSE_ENDED, tuple(taking), tuple((s, Presence.SIGNED_IN) for s in taking)
        )
    return CodeAnswer(Said.PAUSED, tuple(taking), tuple((s, Presence.PAUSED) for s in taking))


def _concerned(
    rules: CompiledRules, endpoint: str, service_number: str | None
) -> Sequence[ServiceRules] | Said:
    services = list(rules.services.values())
    if service_number:
        index = int(service_number) - 1 if service_number.isdigit() else -1
        if not 0 <= index < len(services):
            return Said.UNKNOWN_SERVICE
        if endpoint not in services[index].agents:
            return Said.NOT_IN_SERVICE
        return [services[index]]
    mine = [s for s in services if endpoint in s.agents]
    return mine or Said.NO_SERVICE
