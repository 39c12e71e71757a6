"""The phones the rules name, as Asterisk knows them: each one tracked, the unknown ones reported.

decroche follows each agent's phone through the endpoint events its application is subscribed
to (registered or not, in use or not). Asterisk handles a subscription to several endpoints one
source after the other and stops at the first one missing from ``pjsip.conf``
(``422 {"message": "Event source does not exist"}``): the phones after it are never followed,
and one that unregisters later is rung for nothing. So each phone is subscribed on its own, and
a phone the rules name but Asterisk does not know is *reported* — in the log, in ``/healthz``,
on the IT page and by ``decroche rules check --ari URL`` — at start, after every reconnection
and after every rules reload. Routing never rings it (its device state is ``INVALID``, what
Asterisk answers for a device it does not know).

:func:`unknown_phones` is the pure comparison (rules + the endpoints Asterisk lists);
:func:`track_phones` asks Asterisk, subscribes, and updates the router's view of the agents.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from routing_rules.compiled import CompiledRules
from routing_rules.messages import counted
from telephony.ari.client import AriClient
from telephony.ari.errors import AriError, Unprocessable
from telephony.ari.models import Endpoint
from telephony.flow.agents import AgentTracker

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PhonesReport:
    """The last comparison of the rules' phones with Asterisk's endpoints."""

    checked_at: datetime
    rules_version: str
    tracked: tuple[str, ...]  # subscribed: their registration and use are followed
    unknown: tuple[str, ...]  # named by the rules, unknown to Asterisk (never rung)
    # Which services name each unknown phone (service ids, in the rules' order).
    services: Mapping[str, tuple[str, ...]]
    error: str | None = None  # Asterisk could not be asked: nothing is known

    @property
    def ok(self) -> bool:
        return self.error is None and not self.unknown

    def as_dict(self) -> dict[str, object]:
        """For ``/healthz``."""
        return {
            "checked_at": self.checked_at.isoformat(),
            "rules_version": self.rules_version,
            "tracked": len(self.tracked),
            "unknown": [
                {"endpoint": phone, "services": list(self.services.get(phone, ()))}
                for phone in self.unknown
            ],
            "error": self.error,
        }


def phones_of(rules: CompiledRules) -> dict[str, tuple[str, ...]]:
    """Every phone the rules name -> the services naming it (in the rules' order)."""
    named: dict[str, list[str]] = {}
    for service in rules.services.values():
        for endpoint in service.agents:
            named.setdefault(endpoint, []).append(service.id)
    return {endpoint: tuple(services) for endpoint, services in sorted(named.items())}


def endpoint_name(endpoint: Endpoint) -> str:
    return f"{endpoint.technology}/{endpoint.resource}"


def unknown_phones(rules: CompiledRules, known: Iterable[str]) -> tuple[str, ...]:
    """The phones the rules name that are not among Asterisk's ``known`` endpoints, sorted."""
    listed = set(known)
    return tuple(phone for phone in phones_of(rules) if phone not in listed)


def phone_label(phone: str, services: Iterable[str], names: Mapping[str, str]) -> str:
    """``PJSIP/1201 (Police municipale)``: a phone and the services naming it, by name."""
    return f"{phone} ({', '.join(names.get(s, s) for s in services)})"


def describe_unknown(report: PhonesReport, names: Mapping[str, str]) -> str:
    """The unknown phones in one French sentence, with their services (``names``: id -> name)."""
    count = len(report.unknown)
    said = counted(
        count,
        "poste absent de pjsip.conf, jamais appelé",
        "postes absents de pjsip.conf, jamais appelés",
    )
    labels = [phone_label(p, report.services.get(p, ()), names) for p in report.unknown]
    return f"{said} : " + " ; ".join(labels)


async def track_phones(
    client: AriClient, agents: AgentTracker, rules: CompiledRules, at: datetime
) -> PhonesReport:
    """Read Asterisk's endpoints into ``agents``, subscribe to each phone of ``rules`` Asterisk
    knows (one request each), and report those it does not know."""
    named = phones_of(rules)
    try:
        endpoints = await client.list_endpoints()
    except AriError as exc:
        log.warning("cannot read the agents' endpoints: %s", exc)
        return PhonesReport(at, rules.version, (), (), {}, error=str(exc))
    agents.load_endpoints(endpoints)
    unknown = set(unknown_phones(rules, (endpoint_name(e) for e in endpoints)))
    candidates = [phone for phone in named if phone not in unknown]
    refused = await asyncio.gather(*(_subscribe(client, phone) for phone in candidates))
    error: str | None = None
    for phone, failure in zip(candidates, refused, strict=True):
        if isinstance(failure, Unprocessable):
            unknown.add(phone)  # removed from pjsip.conf between the list and the subscription
        elif failure is not None:
            error = str(failure)
    agents.mark_unknown(unknown)
    ordered = tuple(phone for phone in named if phone in unknown)
    report = PhonesReport(
        at,
        rules.version,
        tuple(phone for phone in candidates if phone not in unknown),
        ordered,
        {phone: named[phone] for phone in ordered},
        error=error,
    )
    if ordered:
        log.warning(
            "phones named by the rules but unknown to Asterisk (not in pjsip.conf), never rung: %s",
            ", ".join(f"{p} ({', '.join(named[p])})" for p in ordered),
        )
    if error is not None:
        log.warning("cannot follow every agent's phone: %s", error)
    return report


async def _subscribe(client: AriClient, phone: str) -> AriError | None:
    try:
        await client.subscribe(f"endpoint:{phone}")
    except AriError as exc:
        return exc
    return None
