"""Simulated Asterisk 22 PBX speaking ARI (REST + WebSocket), with scripted people.

Modules: ``pbx`` (composition root, Python API), ``engine`` (the state and the shared channel
operations) with its parts ``devices`` (phones), ``callers`` (scripted callers), ``dialling``
(create, originate, dial), ``playback``, ``bridging``, ``transfer`` (blind transfers);
``stasis`` (apps and event delivery), ``latency`` (Asterisk's own delays), ``people`` (scripted
callers at run time), ``scripts`` (caller/agent scripts as data), ``media`` (durations),
``resources`` (objects and their ARI JSON), ``operations`` (served ARI operations),
``ari_handlers`` (one handler per served operation), ``ari_http`` / ``control_http`` (HTTP),
``in_process`` (the handlers called directly), ``swagger`` (validator of ARI models). The
command ``decroche sim serve`` is in ``decroche/commands/sim.py``.
"""

from .errors import AriRefusal, ScriptError, SimulatorError
from .latency import StasisWindow
from .pbx import SimulatedPbx
from .people import CallHandle
from .scripts import AgentScript, CallerScript, KeyPress

__all__ = [
    "AgentScript",
    "AriRefusal",
    "CallHandle",
    "CallerScript",
    "KeyPress",
    "ScriptError",
    "SimulatedPbx",
    "SimulatorError",
    "StasisWindow",
]
