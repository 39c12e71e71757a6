"""The PBX's sounds folder, read as Asterisk reads its ``sounds`` directory.

``sound:decroche/bienvenue`` played with language ``fr`` is looked for as
``<folder>/fr/decroche/bienvenue.<format>``, then in ``en/``, then with no language folder
(``main/file.c``'s ``fileexists_core``), in any format Asterisk can play. A sound found in none
is still accepted by ``play`` (201), then its playback fails (``PlaybackFinished`` ``failed``),
as on Asterisk (traces/rest-errors).

The folder is read at each playback, like Asterisk does: a file removed while the PBX runs is
missing from the next call on. ``GET /sounds`` lists what the folder holds (ids are paths under
a language folder without the format, ``decroche/bienvenue``; each with its languages and
formats), as Asterisk's media index does.
"""

from __future__ import annotations

import re
import wave
from dataclasses import dataclass
from pathlib import Path

from .resources import JsonDict

# Formats of Asterisk's format modules, and how many bytes one second of each takes (None: read
# from the file's header).
FORMATS: dict[str, float | None] = {
    "wav": None,
    "WAV": None,
    "sln": 16000.0,
    "raw": 16000.0,
    "sln16": 32000.0,
    "sln48": 96000.0,
    "ulaw": 8000.0,
    "ul": 8000.0,
    "alaw": 8000.0,
    "al": 8000.0,
    "g722": 8000.0,
    "g729": 1000.0,
    "gsm": 1650.0,
}
_LANGUAGE = re.compile(r"^[a-z]{2,3}([_-][A-Za-z]{2})?$")


@dataclass(frozen=True, slots=True)
class SoundFolder:
    root: Path

    def find(self, name: str, language: str | None) -> Path | None:
        """The file Asterisk would play for sound ``name`` in ``language`` (None: none)."""
        if not name or ".." in Path(name).parts or name.startswith("/"):
            return None
        for folder in self._folders(language):
            for fmt in FORMATS:
                path = folder / f"{name}.{fmt}"
                if path.is_file():
                    return path
        return None

    def _folders(self, language: str | None) -> list[Path]:
        folders = [self.root / lang for lang in dict.fromkeys((language or "en", "en")) if lang]
        return [*folders, self.root]

    def duration(self, path: Path) -> float | None:
        """Seconds of audio in ``path`` (None: unknown)."""
        fmt = path.suffix[1:]
        rate = FORMATS.get(fmt)
        try:
            if rate is None:
                with wave.open(str(path), "rb") as reader:
                    frames, frame_rate = reader.getnframes(), reader.getframerate()
                return frames / frame_rate if frame_rate > 0 else None
            return path.stat().st_size / rate
        except (OSError, EOFError, wave.Error):
            return None

    def index(self) -> dict[str, dict[tuple[str, str], None]]:
        """Every sound under a language folder: id -> its (language, format) pairs."""
        sounds: dict[str, dict[tuple[str, str], None]] = {}
        if not self.root.is_dir():
            return sounds
        for language_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if not _LANGUAGE.match(language_dir.name):
                continue
            for path in sorted(language_dir.rglob("*")):
                fmt = path.suffix[1:]
                if fmt not in FORMATS or not path.is_file() or path.name.startswith("."):
                    continue
                sound_id = path.relative_to(language_dir).with_suffix("").as_posix()
                sounds.setdefault(sound_id, {})[(language_dir.name, fmt)] = None
        return sounds

    def listing(self, language: str | None, fmt: str | None) -> list[JsonDict]:
        """``GET /sounds?lang=&format=``."""
        found = []
        for sound_id, pairs in self.index().items():
            kept = [
                {"language": lang, "format": f}
                for lang, f in pairs
                if (language is None or lang == language) and (fmt is None or f == fmt)
            ]
            if kept:
                found.append({"id": sound_id, "text": "", "formats": kept})
        return found

    def sound(self, sound_id: str) -> JsonDict | None:
        """``GET /sounds/{soundId}`` (None: 404)."""
        pairs = self.index().get(sound_id)
        if not pairs:
            return None
        formats = [{"language": lang, "format": f} for lang, f in pairs]
        return {"id": sound_id, "text": "", "formats": formats}
