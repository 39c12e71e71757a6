"""How long each media plays: a table settable at run time, with defaults per URI scheme.

With a sounds folder (``decroche sim serve --sounds DIR``), a ``sound:`` media plays only if
its file is there (see :mod:`.sounds`), for as long as the file lasts; without one, every sound
is taken as present (the PBX "has" every prompt), which is how the tests of the call flow run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .sounds import SoundFolder

# Schemes Asterisk's playback understands; any other is accepted (201) then never plays.
SUPPORTED_SCHEMES = frozenset({"sound", "recording", "number", "digits", "characters", "tone"})


class Unsupported:
    """Marker: the media's scheme is unknown (Asterisk starts it and never finishes it)."""


UNSUPPORTED = Unsupported()


@dataclass
class MediaCatalogue:
    """``durations`` (seconds) by media URI; ``missing`` sounds fail like an absent file;
    ``sounds``: the PBX's sounds folder (None: every sound is there)."""

    durations: dict[str, float] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    default_duration: float = 2.0
    sounds: SoundFolder | None = None

    def duration(self, uri: str, language: str | None = None) -> float | Unsupported | None:
        """Seconds the media plays in ``language``, ``None`` if it fails at once, or
        UNSUPPORTED."""
        scheme, _, target = uri.partition(":")
        if scheme not in SUPPORTED_SCHEMES or not target:
            return UNSUPPORTED
        if uri in self.missing:
            return None
        if scheme == "sound" and self.sounds is not None:
            path = self.sounds.find(target, language)
            if path is None:
                return None
            known = self.durations.get(uri)
            if known is None:
                known = self.sounds.duration(path)
            return known if known is not None else self.default_duration
        known = self.durations.get(uri)
        if known is not None:
            return known
        if scheme in ("digits", "characters"):
            return 0.6 * len(target)
        if scheme == "number":
            return 0.5 + 0.3 * len(target)
        if scheme == "tone":
            # A tone without ";duration" would play until stopped.
            return math.inf
        return self.default_duration

    def set_durations(self, durations: dict[str, float]) -> None:
        for uri, seconds in durations.items():
            if not isinstance(seconds, int | float) or seconds < 0 or math.isnan(seconds):
                raise ValueError(f"duration of {uri!r} must be a number of seconds >= 0")
            self.durations[uri] = float(seconds)
