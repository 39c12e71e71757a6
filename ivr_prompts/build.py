"""Prompt audio: turn the catalogue into the files Asterisk plays, and tell how long each lasts.

Asterisk resolves the media ``sound:decroche/<id>`` played with ``lang=fr`` to
``<astdatadir>/sounds/fr/decroche/<id>.<ext>`` (``astdatadir`` is ``/var/lib/asterisk`` on Debian)
and picks, among the formats present, the one cheapest to transcode to the call's codec. We write
two: ``<id>.wav`` (8 kHz mono 16-bit, the telephone baseline) and ``<id>.sln16`` (raw signed
linear 16 kHz, used as-is by wideband G.722 phones).

A prompt's audio comes from one of two sources: synthesised from its catalogue text with
``espeak-ng``, or a recording the town dropped in (``<id>.wav`` in the recordings folder), which
always wins. Either is converted with ``sox``. ``manifest.json`` in the output folder remembers,
for each prompt, the source and a digest of what it was made from (text and voice, or the
recording's bytes), so a build only renders prompts that are new, changed, or missing a file.

The split: :func:`plan_build` is pure (catalogue, manifest, files present → jobs);
:class:`AudioTools` and :func:`execute_plan` do the subprocess calls and the writes.

Errors::

    PromptBuildError            anything this module refuses; the message names the file/prompt
    ├── ToolMissingError        espeak-ng or sox is not installed (names the Debian package)
    └── RenderError             espeak-ng or sox failed on one prompt or one recording
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from routing_rules.messages import agreeing

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
# Bump when the synthesis or conversion chain changes: every prompt is then rendered again.
CHAIN_VERSION = 1
# Relative to Asterisk's sounds directory; the flow plays ``sound:decroche/<id>``.
SOUNDS_SUBDIR = "decroche"
MEDIA_PREFIX = "sound:decroche/"

Source = Literal["synth", "recorded"]
# A prompt id becomes a file name in Asterisk's sounds folder: no path separator, no dot.
_SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


class PromptBuildError(Exception):
    """The prompt audio cannot be built; the message names the prompt or file and the cause."""


class ToolMissingError(PromptBuildError):
    """espeak-ng or sox is not installed."""


class RenderError(PromptBuildError):
    """espeak-ng or sox failed on one prompt or one recording."""


@dataclass(frozen=True, slots=True)
class AudioFormat:
    extension: str
    rate: int
    # sox's ``-t`` type: the ``.sln16`` extension is unknown to sox, it is headerless raw audio.
    sox_type: str


FORMATS: tuple[AudioFormat, ...] = (
    AudioFormat("wav", 8000, "wav"),
    AudioFormat("sln16", 16000, "raw"),
)

# Debian package providing each tool, for the error message.
TOOL_PACKAGES: dict[str, str] = {"espeak-ng": "espeak-ng", "sox": "sox"}


@dataclass(frozen=True, slots=True)
class Voice:
    """espeak-ng settings. Part of each synthesised prompt's digest: changing them re-renders."""

    name: str = "fr"
    words_per_minute: int = 150  # a little slower than espeak's 175: telephone audio is harsh


# --- Pure part: what to render -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    source: Source
    digest: str


@dataclass(frozen=True, slots=True)
class Recording:
    """A recorded file dropped in by the town, and the digest of its bytes."""

    path: Path
    digest: str


@dataclass(frozen=True, slots=True)
class RenderJob:
    prompt_id: str
    source: Source
    digest: str
    reason: str  # French: shown to IT by ``decroche prompts build``
    text: str
    recording: Path | None = None


@dataclass(frozen=True, slots=True)
class BuildPlan:
    jobs: tuple[RenderJob, ...]
    up_to_date: tuple[str, ...]
    # Recordings whose name matches no prompt id (a typo, or a prompt removed from the catalogue).
    unmatched_recordings: tuple[Path, ...]
    # Prompts in the manifest that left the catalogue: their files are kept, never deleted.
    orphans: tuple[str, ...]

    def tools_needed(self) -> frozenset[str]:
        needed: set[str] = set()
        for job in self.jobs:
            needed.add("sox")
            if job.source == "synth":
                needed.add("espeak-ng")
        return frozenset(needed)


def synth_digest(text: str, voice: Voice) -> str:
    payload = json.dumps([CHAIN_VERSION, voice.name, voice.words_per_minute, text])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def recording_digest(data: bytes) -> str:
    return hashlib.sha256(str(CHAIN_VERSION).encode() + b"\0" + data).hexdigest()


def plan_build(
    catalogue: Mapping[str, str],
    manifest: Mapping[str, ManifestEntry],
    complete: Collection[str],
    recordings: Mapping[str, Recording],
    voice: Voice = Voice(),
    force: bool = False,
) -> BuildPlan:
    """Decide which prompts to render. ``complete``: ids whose every format file exists."""
    bad_ids = sorted(pid for pid in catalogue if not _SAFE_ID.fullmatch(pid))
    if bad_ids:
        n = len(bad_ids)
        raise PromptBuildError(
            f"{agreeing(n, 'identifiant de message', 'identifiants de message')} "
            f"{', '.join(map(repr, bad_ids))} : "
            f"{agreeing(n, 'ne peut', 'ne peuvent')} pas nommer un fichier son "
            "(lettres sans accent, chiffres, « _ » et « - » seulement)"
        )
    jobs: list[RenderJob] = []
    up_to_date: list[str] = []
    for prompt_id, text in catalogue.items():
        recording = recordings.get(prompt_id)
        source: Source = "recorded" if recording is not None else "synth"
        digest = recording.digest if recording is not None else synth_digest(text, voice)
        previous = manifest.get(prompt_id)
        if force:
            reason = "reconstruction demandée (--force)"
        elif previous is None:
            reason = "nouveau message"
        elif previous.source != source:
            reason = (
                "enregistrement ajouté"
                if source == "recorded"
                else "enregistrement retiré : synthèse"
            )
        elif previous.digest != digest:
            reason = "enregistrement modifié" if source == "recorded" else "texte modifié"
        elif prompt_id not in complete:
            reason = "fichier audio manquant"
        else:
            up_to_date.append(prompt_id)
            continue
        jobs.append(
            RenderJob(
                prompt_id=prompt_id,
                source=source,
                digest=digest,
                reason=reason,
                text=text,
                recording=recording.path if recording is not None else None,
            )
        )
    unmatched = tuple(sorted(rec.path for pid, rec in recordings.items() if pid not in catalogue))
    orphans = tuple(sorted(pid for pid in manifest if pid not in catalogue))
    return BuildPlan(tuple(jobs), tuple(up_to_date), unmatched, orphans)


# Fitted on espeak-ng 1.51, voice fr at 150 words/min, over typical town-hall prompts (within
# 0.1 s on each): about 20 characters a second, plus the pause espeak makes at each sentence end
# and each comma.
ESTIMATE_CHARS_PER_S = 20.0
ESTIMATE_SENTENCE_PAUSE_S = 0.45
ESTIMATE_COMMA_PAUSE_S = 0.35
ESTIMATE_PADDING_S = 0.1
_SENTENCE_END = re.compile(r"[.!?;:]")


def estimate_duration(text: str) -> float:
    """Seconds a synthesised prompt lasts, from its text alone (when it is not rendered)."""
    flat = " ".join(text.split())
    seconds = (
        len(flat) / ESTIMATE_CHARS_PER_S
        + len(_SENTENCE_END.findall(flat)) * ESTIMATE_SENTENCE_PAUSE_S
        + flat.count(",") * ESTIMATE_COMMA_PAUSE_S
        + ESTIMATE_PADDING_S
    )
    return round(seconds, 2)


# --- I/O part: files and subprocesses ----------------------------------------------------------


def default_sounds_dir(data_dir: Path) -> Path:
    """Where ``decroche prompts build`` writes by default: a tree shaped like Asterisk's."""
    return data_dir / "sounds" / "fr" / SOUNDS_SUBDIR


def audio_path(sounds_dir: Path, prompt_id: str, fmt: AudioFormat) -> Path:
    return sounds_dir / f"{prompt_id}.{fmt.extension}"


def complete_prompts(sounds_dir: Path, prompt_ids: Collection[str]) -> set[str]:
    return {
        pid
        for pid in prompt_ids
        if all(audio_path(sounds_dir, pid, fmt).is_file() for fmt in FORMATS)
    }


def read_manifest(sounds_dir: Path) -> dict[str, ManifestEntry]:
    """The manifest, or an empty one when absent or unreadable (everything is rendered again)."""
    path = sounds_dir / MANIFEST_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("%s unreadable (%s): every prompt will be rendered again", path, exc)
        return {}
    prompts = raw.get("prompts") if isinstance(raw, dict) else None
    if not isinstance(prompts, dict) or raw.get("version") != MANIFEST_VERSION:
        log.warning("%s has an unknown layout: every prompt will be rendered again", path)
        return {}
    manifest: dict[str, ManifestEntry] = {}
    for pid, entry in prompts.items():
        if (
            isinstance(entry, dict)
            and entry.get("source") in ("synth", "recorded")
            and isinstance(entry.get("digest"), str)
        ):
            manifest[str(pid)] = ManifestEntry(entry["source"], entry["digest"])
    return manifest


def write_manifest(sounds_dir: Path, manifest: Mapping[str, ManifestEntry]) -> None:
    payload = {
        "version": MANIFEST_VERSION,
        "prompts": {
            pid: {"source": e.source, "digest": e.digest} for pid, e in sorted(manifest.items())
        },
    }
    _atomic_write(sounds_dir / MANIFEST_NAME, json.dumps(payload, indent=1).encode("utf-8"))


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True, slots=True)
class RecordingsScan:
    recordings: dict[str, Recording]
    ignored: tuple[Path, ...]  # files that are not WAV: named so that IT converts them


def scan_recordings(directory: Path) -> RecordingsScan:
    """Read ``<id>.wav`` files of the recordings folder (digests of their bytes)."""
    if not directory.is_dir():
        raise PromptBuildError(f"{directory}: recordings folder not found")
    recordings: dict[str, Recording] = {}
    ignored: list[Path] = []
    for path in sorted(directory.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() != ".wav":
            ignored.append(path)
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PromptBuildError(f"{path}: cannot read the recording: {exc}") from exc
        if path.stem in recordings:
            raise PromptBuildError(
                f"{path}: two recordings for prompt {path.stem!r} "
                f"(also {recordings[path.stem].path.name})"
            )
        recordings[path.stem] = Recording(path, recording_digest(data))
    return RecordingsScan(recordings, tuple(ignored))


@dataclass(frozen=True, slots=True)
class AudioTools:
    """The two programs, found on PATH. Build with :meth:`locate`."""

    espeak: str | None
    sox: str | None
    voice: Voice = Voice()
    timeout_s: float = 60.0

    @classmethod
    def locate(
        cls,
        needed: Collection[str] = ("espeak-ng", "sox"),
        search_path: str | None = None,
        voice: Voice = Voice(),
    ) -> AudioTools:
        found = {name: shutil.which(name, path=search_path) for name in TOOL_PACKAGES}
        missing = [name for name in TOOL_PACKAGES if name in needed and found[name] is None]
        if missing:
            packages = " ".join(TOOL_PACKAGES[name] for name in missing)
            n = len(missing)
            raise ToolMissingError(
                f"{', '.join(missing)} {agreeing(n, 'introuvable', 'introuvables')} dans le "
                f"PATH : installez {agreeing(n, 'le paquet Debian', 'les paquets Debian')} avec "
                f"« apt install {packages} »"
            )
        return cls(espeak=found["espeak-ng"], sox=found["sox"], voice=voice)

    def synthesise(self, text: str, dest: Path) -> None:
        """Speak ``text`` into the WAV file ``dest`` (espeak-ng's native rate)."""
        if self.espeak is None:
            raise ToolMissingError("espeak-ng not found: install the Debian package espeak-ng")
        # Text on stdin: never mistaken for an option, whatever it starts with, and no length cap.
        self._run(
            [
                self.espeak,
                "-v",
                self.voice.name,
                "-s",
                str(self.voice.words_per_minute),
                "-b",
                "1",
                "--stdin",
                "-w",
                str(dest),
            ],
            what=f"espeak-ng ({dest.name})",
            stdin=text.encode("utf-8"),
        )

    def convert(self, src: Path, dest: Path, fmt: AudioFormat) -> None:
        """Resample, downmix and requantise ``src`` into ``dest`` (mono 16-bit)."""
        if self.sox is None:
            raise ToolMissingError("sox not found: install the Debian package sox")
        self._run(
            [
                self.sox,
                "-V1",
                str(src),
                "-t",
                fmt.sox_type,
                "-r",
                str(fmt.rate),
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(dest),
            ],
            what=f"sox ({src.name} → {fmt.extension})",
        )

    def _run(self, argv: list[str], *, what: str, stdin: bytes | None = None) -> None:
        try:
            done = subprocess.run(
                argv, input=stdin, capture_output=True, timeout=self.timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RenderError(f"{what}: {exc}") from exc
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
            raise RenderError(f"{what}: {detail}")


@dataclass(slots=True)
class BuildReport:
    rendered: list[RenderJob] = field(default_factory=list)
    failed: list[tuple[RenderJob, str]] = field(default_factory=list)


def execute_plan(plan: BuildPlan, sounds_dir: Path, tools: AudioTools) -> BuildReport:
    """Render every job. A failed prompt keeps its previous files and is reported; others go on.

    Files are written under a temporary name then renamed, and the manifest is saved after each
    prompt, so an interrupted build leaves no half-written audio and resumes where it stopped.
    """
    try:
        sounds_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PromptBuildError(f"{sounds_dir}: cannot create the sounds folder: {exc}") from exc
    manifest = read_manifest(sounds_dir)
    report = BuildReport()
    for job in plan.jobs:
        try:
            _render(job, sounds_dir, tools)
            manifest[job.prompt_id] = ManifestEntry(job.source, job.digest)
            write_manifest(sounds_dir, manifest)
        except RenderError as exc:
            report.failed.append((job, str(exc)))
            continue
        except OSError as exc:  # folder not writable, disk full: the files are left as they were
            report.failed.append((job, f"{sounds_dir}: {exc}"))
            manifest = read_manifest(sounds_dir)
            continue
        report.rendered.append(job)
    return report


def _render(job: RenderJob, sounds_dir: Path, tools: AudioTools) -> None:
    with tempfile.TemporaryDirectory(dir=sounds_dir, prefix=".render-") as work:
        workdir = Path(work)
        if job.recording is not None:
            src = job.recording
        else:
            src = workdir / "speech.wav"
            tools.synthesise(job.text, src)
        staged: list[tuple[Path, Path]] = []
        for fmt in FORMATS:
            out = workdir / f"out.{fmt.extension}"
            try:
                tools.convert(src, out, fmt)
            except RenderError as exc:
                if job.recording is not None:
                    raise RenderError(f"recording {job.recording}: {exc}") from exc
                raise
            staged.append((out, audio_path(sounds_dir, job.prompt_id, fmt)))
        # Only once every format converted: a prompt never ends up with formats of two versions.
        for out, final in staged:
            os.replace(out, final)


@dataclass(frozen=True, slots=True)
class BuildResult:
    plan: BuildPlan
    report: BuildReport
    ignored: tuple[Path, ...]  # files of the recordings folder that are not WAV

    @property
    def rendered(self) -> list[RenderJob]:
        return self.report.rendered

    @property
    def failed(self) -> list[tuple[RenderJob, str]]:
        return self.report.failed


def build_prompts(
    catalogue: Mapping[str, str],
    sounds_dir: Path,
    recordings_dir: Path | None = None,
    *,
    force: bool = False,
    voice: Voice = Voice(),
    search_path: str | None = None,
) -> BuildResult:
    """Plan, check the tools the plan needs (none when all is up to date), render."""
    scan = scan_recordings(recordings_dir) if recordings_dir is not None else RecordingsScan({}, ())
    plan = plan_build(
        catalogue,
        read_manifest(sounds_dir),
        complete_prompts(sounds_dir, catalogue),
        scan.recordings,
        voice,
        force,
    )
    if not plan.jobs:
        return BuildResult(plan, BuildReport(), scan.ignored)
    tools = AudioTools.locate(plan.tools_needed(), search_path, voice)
    return BuildResult(plan, execute_plan(plan, sounds_dir, tools), scan.ignored)


# --- Durations ---------------------------------------------------------------------------------


def wav_duration(path: Path) -> float:
    """Seconds of audio in a PCM WAV file, from its header (what ``sox --i -D`` prints)."""
    try:
        with wave.open(str(path), "rb") as reader:
            frames = reader.getnframes()
            rate = reader.getframerate()
    except (OSError, EOFError, wave.Error) as exc:
        raise PromptBuildError(f"{path}: not a readable WAV file: {exc}") from exc
    if rate <= 0:
        raise PromptBuildError(f"{path}: WAV header gives a sample rate of {rate}")
    return frames / rate


def prompt_duration(sounds_dir: Path | None, prompt_id: str, text: str) -> float:
    """Seconds the prompt lasts: measured on its rendered WAV, else estimated from its text."""
    if sounds_dir is not None:
        path = audio_path(sounds_dir, prompt_id, FORMATS[0])
        if path.is_file():
            try:
                return round(wav_duration(path), 3)
            except PromptBuildError as exc:
                log.warning("%s; duration estimated from the text", exc)
    return estimate_duration(text)


def prompt_durations(catalogue: Mapping[str, str], sounds_dir: Path | None) -> dict[str, float]:
    return {pid: prompt_duration(sounds_dir, pid, text) for pid, text in catalogue.items()}


def media_durations(durations: Mapping[str, float], prefix: str = MEDIA_PREFIX) -> dict[str, float]:
    """``{"sound:decroche/<id>": seconds}``: the shape the simulated PBX's media table takes."""
    return {f"{prefix}{pid}": seconds for pid, seconds in durations.items()}
