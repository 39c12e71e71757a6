"""Blind transfers across calls: which call a transferred leg comes from, and who finished it.

An agent's REFER swaps a Local channel's ``;1`` half into the caller's bridge (its
``StasisStart`` has ``replace_channel``: it reaches the caller's call), while the ``;2`` half
enters the application as a call of its own, the *leg*. Both halves share the pair's name
(``Local/1201@decroche-transfer-00000011``), which links the leg to the call it came from,
whichever ``StasisStart`` comes first (Asterisk sends ``;2``'s first).

:class:`TransferLinks`, owned by the router, keeps for the calls in progress:

- the link between a leg and its origin (``transfer_of`` in the leg's record; the leg rings
  with its origin caller's number, which ``;2`` does not carry yet when it starts);
- who answered each call last, so that the survey asked on the origin after the conversation
  credits the agent who finished it, down a chain of transfers (:meth:`finisher`).

A call's entries go when it and every call it depends on are over.
"""

from __future__ import annotations

import asyncio
import contextlib

from routing_rules.routing import CallFacts

# (service, agent's endpoint) of an answer.
Answer = tuple[str | None, str]


def local_pair(name: str, *, half: int) -> str | None:
    """``Local/0232464317@decroche-transfer-00000011`` for that pair's ``;1`` or ``;2`` channel
    (``half``); None for any other channel."""
    suffix = f";{half}"
    if name.startswith("Local/") and name.endswith(suffix):
        return name.removesuffix(suffix)
    return None


class TransferLinks:
    def __init__(self) -> None:
        self._live: set[str] = set()
        self._facts: dict[str, CallFacts] = {}  # call -> its caller, as it started
        self._leg_of_pair: dict[str, str] = {}  # pair -> the call its ;2 half is
        self._origin_of_pair: dict[str, str] = {}  # pair -> the call its ;1 half went into
        self._linked: dict[str, asyncio.Event] = {}  # pair -> set once both are known
        self._origin: dict[str, str] = {}  # leg -> the call it was transferred from
        self._leg: dict[str, str] = {}  # call -> its latest transferred leg
        self._answered: dict[str, Answer] = {}  # call -> who answered it last

    def started(self, key: str, channel_name: str, facts: CallFacts) -> str | None:
        """A call started; returns its Local pair when it is a transferred leg."""
        self._live.add(key)
        self._facts[key] = facts
        pair = local_pair(channel_name, half=2)
        if pair is not None:
            self._leg_of_pair[pair] = key
            self._link(pair)
        return pair

    def transferred_into(self, key: str, local_name: str) -> str | None:
        """Call ``key``'s agent was replaced by ``local_name`` (a ``;1`` half); returns the leg
        of that pair when it has already started."""
        pair = local_pair(local_name, half=1)
        if pair is None:
            return None  # not a Local channel: nothing of ours will come back
        self._origin_of_pair[pair] = key
        return self._link(pair)

    def _link(self, pair: str) -> str | None:
        leg, origin = self._leg_of_pair.get(pair), self._origin_of_pair.get(pair)
        if leg is None or origin is None:
            return None
        self._origin[leg] = origin
        self._leg[origin] = leg
        self._linked.setdefault(pair, asyncio.Event()).set()
        return leg

    async def origin(self, pair: str, timeout_s: float) -> str | None:
        """The call the leg of ``pair`` was transferred from, waiting up to ``timeout_s`` (real
        seconds) for its ``;1`` half to be seen there."""
        linked = self._linked.setdefault(pair, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(linked.wait(), timeout_s)
        return self._origin_of_pair.get(pair)

    def caller_is(self, key: str, facts: CallFacts) -> None:
        """A transferred leg's caller is its origin's (its ``;2`` half has no caller id of its
        own): a transfer of this leg must show them too, not an empty number."""
        self._facts[key] = facts

    def facts(self, key: str) -> CallFacts | None:
        return self._facts.get(key)

    def answered(self, key: str, service_id: str | None, endpoint: str) -> None:
        self._answered[key] = (service_id, endpoint)

    def finisher(self, key: str) -> Answer | None:
        """The last agent who answered the call, following its transfers to their end."""
        found = self._answered.get(key)
        seen = {key}
        leg = self._leg.get(key)
        while leg is not None and leg not in seen:
            seen.add(leg)
            found = self._answered.get(leg, found)
            leg = self._leg.get(leg)
        return found

    def finished(self, key: str) -> None:
        """The call is over. Its entries stay while the call it came from may still ask who
        finished it; they go with the last of the chain."""
        self._live.discard(key)
        if self._origin.get(key) in self._live:
            return
        self._drop(key)

    def _drop(self, key: str) -> None:
        chain = [key]
        while chain[-1] in self._leg and self._leg[chain[-1]] not in chain:
            chain.append(self._leg[chain[-1]])
        for call in chain:
            if call in self._live:
                break  # a leg still in progress keeps its part (dropped when it ends)
            self._facts.pop(call, None)
            self._answered.pop(call, None)
            self._origin.pop(call, None)
            self._leg.pop(call, None)
            for table in (self._leg_of_pair, self._origin_of_pair):
                for pair in [p for p, k in table.items() if k == call]:
                    del table[pair]
                    self._linked.pop(pair, None)
