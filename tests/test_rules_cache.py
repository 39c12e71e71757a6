"""Checked rules kept between commands: the same rules as checking the file, never stale, never
trusted from a folder someone else can write, never a reason for a command to fail."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import pytest

from decroche.app import App
from decroche.config import Config, default_cache_dir, load_config
from routing_rules.cache import SUFFIX, RulesCache
from routing_rules.compiled import CompiledRules
from routing_rules.errors import RulesInvalid
from routing_rules.holder import RulesHolder
from routing_rules.loader import load_rules
from routing_rules.source import default_rules_path

PROMPTS = ["invalid", "bye", "hello"]

RULES = """\
settings:
  invalid_prompt: invalid
services:
  a:
    name: {name}
    tag: A
    agents: [PJSIP/1]
    rings: 3
    overflow:
      otherwise: {{message: bye}}
entry:
  - service: a
"""


class Catalogue:
    """The prompt ids, counting how often the check asked for them."""

    def __init__(self) -> None:
        self.asked = 0

    def __call__(self) -> list[str]:
        self.asked += 1
        return PROMPTS


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, RulesCache]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.format(name="Accueil"), encoding="utf-8")
    catalogue = tmp_path / "fr.yaml"
    catalogue.write_text("invalid: Choix invalide.\n", encoding="utf-8")
    return rules, catalogue, RulesCache(tmp_path / "cache" / "rules", inputs=[catalogue])


def load(rules: Path, cache: RulesCache, catalogue: Catalogue | None = None) -> CompiledRules:
    return RulesHolder(rules, catalogue=catalogue or Catalogue(), cache=cache).current


def entries(cache: RulesCache) -> list[Path]:
    return sorted(cache.folder.glob(f"*{SUFFIX}"))


def test_the_kept_rules_are_the_checked_rules_and_the_check_is_not_done_again(setup):
    rules, _, cache = setup
    first, again = Catalogue(), Catalogue()
    checked = load(rules, cache, first)
    kept = load(rules, cache, again)
    assert (first.asked, again.asked) == (1, 0)  # the second never checked the file
    assert kept == checked == load_rules(rules, PROMPTS)
    assert kept is not checked
    assert kept.services["a"].name == "Accueil"
    assert len(entries(cache)) == 1


def test_bernays_rules_come_back_whole(tmp_path: Path):
    # The shipped rules hold every kind of compiled value (schedules, menus, queues, surveys,
    # read-only mappings): what is read back equals what the check gives.
    from ivr_prompts.catalogue import default_catalogue_path, load_catalogue

    cache = RulesCache(tmp_path / "rules", inputs=[default_catalogue_path()])
    keys = list(load_catalogue())
    checked = RulesHolder(default_rules_path(), catalogue=lambda: keys, cache=cache).current
    asked: list[int] = []
    kept = RulesHolder(
        default_rules_path(), catalogue=lambda: asked.append(1) or keys, cache=cache
    ).current
    assert asked == []
    assert kept == checked
    assert kept.menus and kept.schedules and kept.surveys
    with pytest.raises(TypeError):  # still read-only
        kept.services["x"] = kept.services[next(iter(kept.services))]  # type: ignore[index]


@pytest.mark.parametrize(
    "change",
    ["rules file", "catalogue file", "code", "rules path"],
)
def test_any_change_of_what_the_check_reads_checks_again(setup, tmp_path: Path, change: str):
    rules, catalogue, cache = setup
    load(rules, cache)
    if change == "rules file":
        rules.write_text(RULES.format(name="Accueil général"), encoding="utf-8")
    elif change == "catalogue file":
        catalogue.write_text("invalid: Autre texte.\n", encoding="utf-8")
    elif change == "code":
        cache._code += "\nrouting_rules/compiled.py:1:2"
    else:
        moved = tmp_path / "ailleurs.yaml"
        moved.write_bytes(rules.read_bytes())
        rules = moved
    counted = Catalogue()
    loaded = load(rules, cache, counted)
    assert counted.asked == 1
    assert loaded == load_rules(rules, PROMPTS)
    assert loaded.source == str(rules)


def test_a_file_with_problems_is_never_kept_and_always_reported(setup):
    rules, _, cache = setup
    rules.write_text(RULES.format(name="Accueil").replace("bye", "absent"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(RulesInvalid) as refused:
            load(rules, cache)
        assert "absent" in str(refused.value)
    assert entries(cache) == []


def test_a_damaged_entry_is_checked_again_and_replaced(setup):
    rules, _, cache = setup
    load(rules, cache)
    [entry] = entries(cache)
    entry.write_bytes(b"\x80\x05 pas un pickle")
    counted = Catalogue()
    assert load(rules, cache, counted) == load_rules(rules, PROMPTS)
    assert counted.asked == 1
    assert pickle.loads(entry.read_bytes()) == load_rules(rules, PROMPTS)


def test_an_entry_for_other_bytes_is_not_taken(setup):
    # An entry whose content is another version (a copy, a collision): checked again.
    rules, _, cache = setup
    other = load_rules(rules, PROMPTS)
    lookup = cache.lookup(rules, "0" * 16)
    cache.keep(lookup.key, other)
    assert (cache.folder / f"{lookup.key}{SUFFIX}").exists()
    assert cache.lookup(rules, "0" * 16).rules is None
    assert not (cache.folder / f"{lookup.key}{SUFFIX}").exists()
    assert cache.lookup(rules, other.version).rules is None  # kept under the wrong key only


@pytest.mark.parametrize("who", ["group", "others"])
def test_an_entry_others_can_write_is_not_read(setup, who: str):
    # Reading a pickle runs code: one that someone else could have written is passed over.
    rules, _, cache = setup
    load(rules, cache)
    [entry] = entries(cache)
    entry.chmod(0o620 if who == "group" else 0o602)
    counted = Catalogue()
    assert load(rules, cache, counted).services["a"].name == "Accueil"
    assert counted.asked == 1


def test_a_folder_others_can_write_is_neither_read_nor_written(setup):
    rules, _, cache = setup
    cache.folder.mkdir(parents=True)
    cache.folder.chmod(0o777)
    counted = Catalogue()
    load(rules, cache, counted)
    load(rules, cache, counted)
    assert counted.asked == 2
    assert entries(cache) == []


def test_a_cache_that_cannot_be_written_costs_time_not_the_command(setup, tmp_path: Path):
    rules, catalogue, _ = setup
    blocked = tmp_path / "un-fichier"
    blocked.write_text("", encoding="utf-8")
    cache = RulesCache(blocked / "rules", inputs=[catalogue])  # a folder under a file
    counted = Catalogue()
    assert load(rules, cache, counted) == load_rules(rules, PROMPTS)
    assert load(rules, cache, counted) == load_rules(rules, PROMPTS)
    assert counted.asked == 2


def test_only_the_latest_entries_are_kept(setup, tmp_path: Path):
    rules, _, cache = setup
    for n in range(12):
        rules.write_text(RULES.format(name=f"Accueil {n}"), encoding="utf-8")
        load(rules, cache)
        for entry in entries(cache):  # distinct dates on coarse file systems
            os.utime(entry, ns=(entry.stat().st_mtime_ns - 10**9,) * 2)
    assert len(entries(cache)) == 8


def test_a_reload_in_the_service_uses_the_cache_too(setup):
    rules, _, cache = setup
    counted = Catalogue()
    holder = RulesHolder(rules, catalogue=counted, cache=cache)
    rules.write_text(RULES.format(name="Accueil général"), encoding="utf-8")
    assert holder.reload().changed
    rules.write_text(RULES.format(name="Accueil"), encoding="utf-8")
    assert holder.reload().changed  # back to the first version: kept, not checked again
    assert counted.asked == 2
    assert holder.current.services["a"].name == "Accueil"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"CACHE_DIRECTORY": "/var/cache/decroche", "HOME": "/root"}, "/var/cache/decroche"),
        ({"CACHE_DIRECTORY": "/var/cache/a:/var/cache/b"}, "/var/cache/a"),
        ({"XDG_CACHE_HOME": "/tmp/xdg", "HOME": "/home/it"}, "/tmp/xdg/decroche"),
        ({"HOME": "/home/it"}, "/home/it/.cache/decroche"),
        ({}, None),
    ],
)
def test_where_the_cache_goes_by_default(environ: dict[str, str], expected: str | None):
    found = default_cache_dir(environ)
    assert (str(found) if found else None) == expected
    assert load_config(None, environ).cache_dir == (Path(expected) if expected else None)


def test_the_configuration_says_where_or_none(tmp_path: Path):
    written = tmp_path / "decroche.yaml"
    written.write_text(f"cache_dir: {tmp_path / 'cache'}\n", encoding="utf-8")
    assert load_config(written, {"HOME": "/home/it"}).cache_dir == tmp_path / "cache"
    written.write_text("cache_dir: null\n", encoding="utf-8")
    assert load_config(written, {"HOME": "/home/it"}).cache_dir is None


def test_the_app_keeps_its_rules_in_the_configured_folder(tmp_path: Path):
    config = Config(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache")
    first = App(config).rules.current
    [entry] = (tmp_path / "cache" / "rules").glob(f"*{SUFFIX}")
    again = App(config).rules.current
    assert again == first
    assert pickle.loads(entry.read_bytes()) == first
    before = sorted(tmp_path.rglob("*"))
    assert App(Config(data_dir=tmp_path / "data")).rules.current == first  # no cache_dir
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


def test_a_command_with_kept_rules_imports_neither_the_check_nor_holidays(tmp_path: Path):
    # What makes a command start fast (issue 22): with the rules kept, the YAML reader, the
    # file's pydantic model and the holidays library are not even imported.
    import subprocess

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("CACHE_DIRECTORY", None)
    probe = (
        "import sys\n"
        "from decroche.config import load_config\n"
        "from decroche.app import App\n"
        "app = App(load_config(None))\n"
        "app.rules.current\n"
        "print(sorted(m for m in ('ruamel.yaml', 'routing_rules.model', 'holidays',"
        " 'routing_rules.checks', 'asyncio') if m in sys.modules))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs[0] != "[]"  # the first one checked the file
    assert runs[1] == "[]"
