"""What the audit's tests share: a sounds folder holding every prompt of the catalogue (short
silent WAV files, laid out as Asterisk's), and an audit runner on a running system."""

from __future__ import annotations

import wave
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit.results import AuditRun, Trigger
from audit.run import AuditRunner, AuditSettings
from audit.store import AuditStore
from ivr_prompts.build import SOUNDS_SUBDIR
from ivr_prompts.catalogue import load_catalogue
from telephony.ari.client import AriClient
from tests.flow_support import System

CATALOGUE: Mapping[str, str] = load_catalogue()
ROBOT_APP = "decroche-audit"


def sounds_folder(root: Path, seconds: float = 1.0) -> Path:
    """``root/fr/decroche/<id>.wav`` for every prompt of the catalogue; returns ``root``."""
    folder = root / "fr" / SOUNDS_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    for prompt_id in CATALOGUE:
        with wave.open(str(folder / f"{prompt_id}.wav"), "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(8000)
            writer.writeframes(b"\0\0" * int(8000 * seconds))
    return root


def remove_sound(root: Path, prompt_id: str) -> None:
    for path in (root / "fr" / SOUNDS_SUBDIR).glob(f"{prompt_id}.*"):
        path.unlink()


def runner_for(
    system: System, store: AuditStore | None = None, settings: AuditSettings | None = None
) -> AuditRunner:
    """The audit of ``system``'s PBX and rules, as the composition root builds it."""
    holder = system.router.rules
    return AuditRunner(
        client=AriClient(system.pbx.url, "decroche", "decroche", ROBOT_APP),
        clock=system.clock,
        rules=lambda: holder.current,
        names=lambda: {s.id: s.name for s in holder.current.services.values()},
        texts=lambda: CATALOGUE,
        store=store,
        settings=settings,
        heartbeat_s=3600,
        ping_interval_s=3600,
    )


def failing(run: AuditRun) -> dict[str, list[str]]:
    """Each failed path's failing checks, as ``{path: ["code: detail"]}``."""
    return {r.path_id: [f"{c.code}: {c.detail}" for c in r.failures] for r in run.failed}


async def audit_once(system: System, *, trigger: Trigger = Trigger.COMMAND, **run: Any) -> AuditRun:
    """One run of the audit on ``system`` (``run``: ``wanted``…), its robot closed after."""
    runner = runner_for(system)
    try:
        return await runner.run(trigger, **run)
    finally:
        await runner.client.close()
