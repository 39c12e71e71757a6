"""Asterisk's own processing delays that an ARI application can run into.

``channels/create`` answers 200 *before* the new channel is in the application: Asterisk starts a
thread that runs ``Stasis()`` on it, and the channel's ``StasisStart`` comes a millisecond or so
later (more under load). Until then every operation that needs the channel in the application
(``dial``, ``answer``, ``play``, ``ring``, setting a variable, ``continue``...) is refused with
``409 {"message": "Channel not in Stasis application"}``; only ``DELETE``, ``GET`` and reading a
variable work on it (``res/ari/resource_channels.c``: ``find_control``). An application that dials
right after the 200 loses the ring (seen on a real Asterisk 22: 6 % of dials under load, 31 % in
one run, the very first dial of an idle service included).
"""

from __future__ import annotations

import random


class StasisWindow:
    """How long a created channel takes to enter its application: a delay drawn uniformly in
    ``[min_s, max_s]`` seconds of the PBX's clock for each channel.

    The default (0.5 to 3 ms, fresh randomness) is what a loaded Asterisk does; ``seed`` makes the
    draws repeatable (tests, the demo, what-if replays); :meth:`none` enters right after the 200
    (still after it: Asterisk never puts the channel in the application before answering).
    """

    __slots__ = ("_rng", "max_s", "min_s")

    def __init__(
        self, min_s: float = 0.0005, max_s: float = 0.003, *, seed: int | None = None
    ) -> None:
        if not 0.0 <= min_s <= max_s:
            raise ValueError(
                f"stasis window: 0 <= min_s <= max_s expected, got min_s={min_s}, max_s={max_s}"
            )
        self.min_s = min_s
        self.max_s = max_s
        self._rng = random.Random(seed)

    @classmethod
    def none(cls) -> StasisWindow:
        return cls(0.0, 0.0)

    @classmethod
    def parse_ms(cls, text: str, *, seed: int | None = None) -> StasisWindow:
        """``"0.5-3"`` (milliseconds, a range) or ``"2"`` (always 2 ms), as the CLI takes it."""
        low, sep, high = text.partition("-")
        try:
            min_ms = float(low)
            max_ms = float(high) if sep else min_ms
        except ValueError:
            raise ValueError(
                f'stasis window: {text!r} is not a delay in ms ("2") or a range ("0.5-3")'
            ) from None
        return cls(min_ms / 1000, max_ms / 1000, seed=seed)

    def draw(self) -> float:
        """The next created channel's delay, in seconds of the PBX clock."""
        if self.max_s <= 0.0:
            return 0.0
        return self._rng.uniform(self.min_s, self.max_s)

    def __repr__(self) -> str:
        return f"StasisWindow({self.min_s * 1000:g}-{self.max_s * 1000:g} ms)"
