"""The Asterisk configuration and deploy files we ship agree with decroche and with themselves."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
from ruamel.yaml import YAML

from decroche.config import AriConfig, Config, load_config

ROOT = Path(__file__).resolve().parent.parent
ASTERISK = ROOT / "asterisk"
DEPLOY = ROOT / "deploy"


# --- A small parser for Asterisk's INI-like files ----------------------------------------------


@dataclass
class Section:
    name: str
    templates: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)

    def get(self, key: str) -> str | None:
        values = [v for k, v in self.options if k == key]
        return values[-1] if values else None


def _strip_comment(line: str, unit: bool) -> str:
    if unit:  # systemd: whole-line comments only, "#" or ";"
        return "" if line.lstrip().startswith(("#", ";")) else line.strip()
    # Asterisk: ";" starts a comment unless escaped as "\;".
    return re.split(r"(?<!\\);", line, maxsplit=1)[0].strip()


def parse_conf(path: Path, *, unit: bool = False) -> list[Section]:
    sections: list[Section] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = _strip_comment(raw, unit)
        if not line:
            continue
        header = re.fullmatch(r"\[([^\]]+)\](?:\(([^)]*)\))?", line)
        if header:
            templates = [t.strip() for t in (header.group(2) or "").split(",") if t.strip()]
            sections.append(Section(header.group(1), templates))
            continue
        match = re.fullmatch(r"([^=]+?)\s*=>?\s*(.*)", line)
        assert match and sections, f"{path.name}:{number}: cannot parse {raw!r}"
        sections[-1].options.append((match.group(1).strip(), match.group(2).strip()))
    return sections


def one(sections: list[Section], name: str) -> Section:
    found = [s for s in sections if s.name == name]
    assert len(found) == 1, f"expected one [{name}], found {len(found)}"
    return found[0]


# --- The dialplan ----------------------------------------------------------------------------


@dataclass
class Step:
    app: str
    args: str
    label: str | None


@dataclass
class Dialplan:
    globals: dict[str, str]
    # context -> extension -> steps in priority order
    contexts: dict[str, dict[str, list[Step]]]

    def steps(self, context: str, exten: str) -> list[Step]:
        return self.contexts[context][exten]

    def expand(self, text: str) -> str:
        return re.sub(r"\$\{(\w+)\}", lambda m: self.globals.get(m.group(1), m.group(0)), text)


def parse_dialplan(path: Path) -> Dialplan:
    sections = parse_conf(path)
    dialplan = Dialplan({}, {})
    for section in sections:
        if section.name == "general":
            continue
        if section.name == "globals":
            dialplan.globals = dict(section.options)
            continue
        extens: dict[str, list[Step]] = {}
        current: str | None = None
        for key, value in section.options:
            assert key in ("exten", "same"), f"[{section.name}]: unexpected {key}"
            if key == "exten":
                current, priority, rest = value.split(",", 2)
                assert priority == "1", f"[{section.name}] {current}: first priority must be 1"
                assert current not in extens, f"[{section.name}] {current} defined twice"
                extens[current] = []
            else:
                priority, rest = value.split(",", 1)
                assert priority.startswith("n"), f"[{section.name}]: same => {value}"
            assert current is not None
            label = re.fullmatch(r"n\((\w[\w-]*)\)", priority)
            app = re.fullmatch(r"(\w+)\((.*)\)", rest.strip())
            assert app, f"[{section.name}] {current}: cannot parse application {rest!r}"
            extens[current].append(Step(app.group(1), app.group(2), label and label.group(1)))
        dialplan.contexts[section.name] = extens
    return dialplan


def _matches(pattern: str, exten: str) -> bool:
    if not pattern.startswith("_"):
        return pattern == exten
    classes = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}
    regex = ""
    for token in re.findall(r"\[[^\]]+\]|.", pattern[1:]):
        regex += token if token.startswith("[") else classes.get(token, re.escape(token))
    return re.fullmatch(regex, exten) is not None


def _find(dialplan: Dialplan, context: str, exten: str) -> str:
    """The extension of ``context`` that ``exten`` reaches (exact names before patterns)."""
    extens = dialplan.contexts[context]
    if exten in extens:
        return exten
    matching = [p for p in extens if _matches(p, exten)]
    assert matching, f"[{context}] has no extension for {exten!r}"
    return min(matching, key=_specificity)  # the most specific, as Asterisk sorts patterns


def _specificity(pattern: str) -> list[int]:
    """Asterisk's order of patterns, position by position: a digit before a class, a smaller
    class before a larger one, anything before the ``.``/``!`` wildcards."""
    sizes = {"X": 10, "Z": 9, "N": 8, ".": 1000, "!": 1001}
    key = []
    for token in re.findall(r"\[[^\]]+\]|.", pattern[1:]):
        if token.startswith("["):
            body = token[1:-1]
            ranges = re.findall(r"(.)-(.)", body)
            key.append(sum(ord(b) - ord(a) + 1 for a, b in ranges) + len(re.sub(r".-.", "", body)))
        else:
            key.append(sizes.get(token, 1))
    return key


def _stasis_apps(dialplan: Dialplan) -> list[tuple[str, str, list[str]]]:
    return [
        (context, exten, step.args.split(","))
        for context, extens in dialplan.contexts.items()
        for exten, steps in extens.items()
        for step in steps
        if step.app == "Stasis"
    ]


@pytest.fixture(scope="module")
def dialplan() -> Dialplan:
    return parse_dialplan(ASTERISK / "extensions.conf")


def test_every_stasis_call_uses_the_configured_app(dialplan):
    calls = _stasis_apps(dialplan)
    assert len(calls) >= 5
    assert {args[0] for _, _, args in calls} == {AriConfig().app}


def test_inbound_calls_enter_decroche_with_the_dialled_number(dialplan):
    exten = _find(dialplan, "from-trunk", "0232464317")
    steps = dialplan.steps("from-trunk", exten)
    apps = [s.app for s in steps]
    assert apps.index("Set") < apps.index("Stasis")  # language before anything is played
    assert any(s.app == "Set" and s.args == "CHANNEL(language)=fr" for s in steps)
    stasis = apps.index("Stasis")
    assert steps[stasis].args == f"{AriConfig().app},${{EXTEN}}"
    # The very next step sends FAILED (decroche not connected) to the fallback ring group.
    check = steps[stasis + 1]
    assert check.app == "GotoIf"
    assert '"${STASISSTATUS}" = "FAILED"' in check.args
    assert check.args.endswith("?decroche-fallback,s,1")
    assert "h" in dialplan.contexts["from-trunk"]


@pytest.mark.parametrize(
    ("dialled", "reaches"),
    [("+33232464317", "0232464317"), ("s", "standard"), ("2301", "2301")],
)
def test_every_inbound_form_reaches_stasis(dialplan, dialled, reaches):
    exten = _find(dialplan, "from-trunk", dialled)
    first = dialplan.steps("from-trunk", exten)[0]
    if first.app == "Goto":
        target = first.args.replace("${CONTEXT}", "from-trunk").split(",")
        assert target[0] == "from-trunk"
        exten_expr = target[1]
        value = (
            "0" + dialled[3:] if exten_expr == "0${EXTEN:3}" else exten_expr
        )  # the only substitution used
        assert value == reaches
        exten = _find(dialplan, "from-trunk", value)
    assert any(s.app == "Stasis" for s in dialplan.steps("from-trunk", exten))


# --- Running a few dialplan lines, as Asterisk would -------------------------------------------
# Enough of Asterisk's dialplan to run the fallback and the transfers' direct ring: variables
# (LOCAL() in a Gosub), Set, Gosub/Return, While/EndWhile, ExecIf, GotoIf, Dial; functions
# DEVICE_STATE, SHIFT, IF, VM_INFO; $[...] with = != | &. Anything else fails the test loudly.


class Runner:
    """Runs ``context,exten`` from priority 1 with the phones' ``devices`` states; ``dials``
    lists what each Dial() rang, ``apps`` every application reached."""

    def __init__(self, dialplan: Dialplan, devices: dict[str, str], exten_var: str = "s") -> None:
        self.dialplan = dialplan
        self.devices = devices
        self.channel: dict[str, str] = dict(dialplan.globals, EXTEN=exten_var)
        self.frames: list[tuple[str, str, int, dict[str, str]]] = []
        self.dials: list[tuple[str, str]] = []
        self.apps: list[str] = []

    def lookup(self, name: str, scope: dict[str, str]) -> str:
        if name in scope:
            return scope[name]
        return self.channel.get(name, "")

    def function(self, name: str, arg: str, scope: dict[str, str]) -> str:
        if name == "DEVICE_STATE":
            return self.devices.get(arg, "INVALID")  # Asterisk's answer for an unknown device
        if name == "SHIFT":
            variable, delimiter = arg.split(",")
            items = self.lookup(variable, scope).split(delimiter)
            rest = delimiter.join(items[1:])
            (scope if variable in scope else self.channel)[variable] = rest
            return items[0]
        if name == "IF":
            condition, _, choices = arg.partition("?")
            yes, _, no = choices.partition(":")
            return yes if condition.strip() not in ("", "0") else no
        if name == "VM_INFO":
            return "0"  # no such mailbox on the test PBX
        if name in ("CHANNEL", "CALLERID", "CDR"):
            return ""
        raise AssertionError(f"dialplan function {name}() not supported by the test runner")

    def expand(self, text: str, scope: dict[str, str]) -> str:
        while True:
            inner = re.search(r"\$\{([^${}]*)\}|\$\[([^$\[\]]*)\]", text)
            if inner is None:
                return text
            if inner.group(1) is not None:
                body = inner.group(1)
                call = re.fullmatch(r"(\w+)\((.*)\)", body)
                value = (
                    self.function(call.group(1), call.group(2), scope)
                    if call
                    else self.lookup(body, scope)
                )
            else:
                value = self.expression(inner.group(2))
            text = text[: inner.start()] + value + text[inner.end() :]

    @staticmethod
    def expression(text: str) -> str:
        def atom(part: str) -> bool:
            compare = re.fullmatch(r'\s*"([^"]*)"\s*(!=|=)\s*"([^"]*)"\s*', part)
            assert compare, f"expression {part!r} not supported by the test runner"
            equal = compare.group(1) == compare.group(3)
            return equal if compare.group(2) == "=" else not equal

        return "1" if any(all(atom(a) for a in o.split(" & ")) for o in text.split(" | ")) else "0"

    def run(self, context: str, exten: str) -> None:
        scope: dict[str, str] = {}
        index = 0
        for _ in range(1000):
            steps = self.dialplan.steps(context, exten)
            if index >= len(steps):
                return
            step = steps[index]
            self.apps.append(step.app)
            index += 1
            args = step.args
            if step.app in ("ExecIf", "GotoIf"):
                condition, _, then = args.partition("?")
                if self.expand(condition, scope) in ("", "0"):
                    continue
                if step.app == "ExecIf":
                    app = re.fullmatch(r"(\w+)\((.*)\)", then)
                    assert app and app.group(1) == "Set", then
                    step, args = Step("Set", app.group(2), None), app.group(2)
                else:
                    context, exten, index = self.goto(context, exten, then.split(":")[0])
                    continue
            if step.app == "Set":
                name, _, value = args.partition("=")
                value = self.expand(value, scope)
                local = re.fullmatch(r"LOCAL\((\w+)\)", name)
                if local:
                    scope[local.group(1)] = value
                elif name in scope:
                    scope[name] = value
                elif "(" not in name:  # CHANNEL(language)=fr, CDR(...): no variable
                    self.channel[name] = value
            elif step.app == "Gosub":
                target, _, call_args = args.partition("(")
                where = target.split(",")
                self.frames.append((context, exten, index, scope))
                values = self.expand(call_args.removesuffix(")"), scope).split(",")
                scope = {f"ARG{i}": v for i, v in enumerate(values, 1)}
                context, exten, index = where[0], where[1], int(where[2]) - 1
            elif step.app == "Return":
                context, exten, index, scope = self.frames.pop()
            elif step.app == "While":
                if self.expand(args, scope) in ("", "0"):
                    depth = 1
                    while depth:
                        depth += {"While": 1, "EndWhile": -1}.get(steps[index].app, 0)
                        index += 1
            elif step.app == "EndWhile":
                depth = 1
                index -= 2
                while depth:
                    depth -= {"While": 1, "EndWhile": -1}.get(steps[index].app, 0)
                    index -= 1
                index += 1
            elif step.app == "Goto":
                context, exten, index = self.goto(context, exten, args)
            elif step.app == "Dial":
                target, _, timeout = self.expand(args, scope).partition(",")
                self.dials.append((target, timeout))
                self.channel["DIALSTATUS"] = "NOANSWER"
            elif step.app == "Hangup":
                return
            else:
                self.expand(args, scope)  # NoOp, Answer, Playback, VoiceMail: nothing to do
        raise AssertionError(f"[{context}] {exten}: the dialplan loops")

    def goto(self, context: str, exten: str, target: str) -> tuple[str, str, int]:
        parts = target.split(",")
        if len(parts) == 1:
            steps = self.dialplan.steps(context, exten)
            return context, exten, next(i for i, s in enumerate(steps) if s.label == parts[0])
        return parts[0], parts[1], int(parts[2]) - 1


def _accueil_general() -> list[str]:
    rules = YAML(typ="safe").load((ROOT / "routing_rules" / "bernay.yaml").read_text("utf-8"))
    agents: list[str] = rules["services"]["accueil_general"]["agents"]
    return agents


def test_fallback_rings_the_accueil_general_of_the_rules(dialplan):
    phones = _accueil_general()
    fallback = Runner(dialplan, dict.fromkeys(phones, "NOT_INUSE"))
    fallback.run("decroche-fallback", "s")
    ((endpoints, timeout),) = fallback.dials
    assert int(timeout) >= 20  # at least 4 French ring cycles
    assert endpoints.split("&") == phones
    assert dialplan.globals["ACCUEIL_GENERAL"].split("&") == phones
    # Nobody answered: voicemail if the box exists, else a message; never a silent hang-up.
    steps = dialplan.steps("decroche-fallback", "s")
    assert [s.app for s in steps].count("Playback") == 1
    assert any(s.app == "VoiceMail" for s in steps)
    assert fallback.apps[-2:] == ["Playback", "Hangup"]


@pytest.mark.parametrize("audit", [False, True])
def test_an_audit_call_refused_by_stasis_rings_nobody(dialplan, audit):
    """decroche's audit calls (DECROCHE_AUDIT set) never reach the fallback ring group, whether
    Stasis() failed or decroche handed the call back (docs/audit.md)."""
    phones = _accueil_general()
    call = Runner(dialplan, dict.fromkeys(phones, "NOT_INUSE"), "0232464317")
    call.channel["STASISSTATUS"] = "FAILED"
    if audit:
        call.channel["DECROCHE_AUDIT"] = "20261014-100000-abcdef/p01"
    call.run("from-trunk", _find(dialplan, "from-trunk", "0232464317"))
    assert bool(call.dials) is not audit
    assert call.apps[-1] == "Hangup"
    handed_back = Runner(dialplan, dict.fromkeys(phones, "NOT_INUSE"))
    if audit:
        handed_back.channel["DECROCHE_AUDIT"] = "20261014-100000-abcdef/p01"
    handed_back.run("decroche-fallback", "s")
    assert bool(handed_back.dials) is not audit


@pytest.mark.parametrize(
    ("states", "rung"),
    [
        # A phone on a call is not rung (no call waiting); one ringing for another caller is.
        (("INUSE", "NOT_INUSE", "BUSY", "RINGING"), [1, 3]),
        (("NOT_INUSE", "ONHOLD", "RINGINUSE", "NOT_INUSE"), [0, 3]),
        # Unregistered or unknown phones are left out too.
        (("UNAVAILABLE", "INVALID", "NOT_INUSE", "UNKNOWN"), [2]),
    ],
)
def test_fallback_rings_only_the_phones_on_no_call(dialplan, states, rung):
    phones = _accueil_general()
    fallback = Runner(dialplan, dict(zip(phones, states, strict=True)))
    fallback.run("decroche-fallback", "s")
    ((endpoints, _),) = fallback.dials
    assert endpoints.split("&") == [phones[i] for i in rung]


def test_fallback_with_every_phone_on_a_call_goes_straight_to_the_message(dialplan):
    phones = _accueil_general()
    fallback = Runner(dialplan, dict.fromkeys(phones, "INUSE"))
    fallback.run("decroche-fallback", "s")
    assert fallback.dials == []
    assert "Dial" not in fallback.apps
    assert fallback.apps[-4:] == ["Answer", "GotoIf", "Playback", "Hangup"]


@pytest.mark.parametrize(("state", "rung"), [("NOT_INUSE", True), ("INUSE", False)])
def test_a_transfer_to_a_colleague_on_a_call_falls_back_instead_of_call_waiting(
    dialplan, state, rung
):
    transfer = Runner(dialplan, {"PJSIP/1002": state, "PJSIP/1001": "NOT_INUSE"}, "1002")
    transfer.channel["STASISSTATUS"] = "FAILED"
    transfer.run("decroche-transfer", _find(dialplan, "decroche-transfer", "1002"))
    dialled = [target for target, _ in transfer.dials]
    if rung:
        assert dialled[0] == "PJSIP/1002"
    else:
        assert "PJSIP/1002" not in dialled
        assert dialled and "PJSIP/1001" in dialled[0]  # the fallback's ring group


@pytest.mark.parametrize(
    ("code", "args"),
    [
        ("*51", ["agent-login"]),
        ("*513", ["agent-login", "${EXTEN:3}"]),
        ("*52", ["agent-logout"]),
        ("*524", ["agent-logout", "${EXTEN:3}"]),
        ("*53", ["agent-pause"]),
    ],
)
def test_agent_feature_codes_enter_decroche(dialplan, code, args):
    entry = dialplan.steps("from-agents", _find(dialplan, "from-agents", code))
    assert entry[0].args == "__TRANSFER_CONTEXT=decroche-transfer"
    goto = next(s for s in entry if s.app == "Goto")
    context, exten_expr, _ = goto.args.split(",")
    assert exten_expr == "${EXTEN}"
    steps = dialplan.steps(context, _find(dialplan, context, code))
    assert steps[0].app == "Stasis" and steps[0].args.split(",") == [AriConfig().app, *args]


def test_agents_can_always_dial_emergency_numbers(dialplan):
    for number in ("15", "17", "18", "112", "114"):
        steps = dialplan.steps("agent-dial", _find(dialplan, "agent-dial", number))
        assert steps[0].app == "Dial" and "@${TRUNK}" in steps[0].args


def test_transfers_reenter_decroche_and_fall_back(dialplan):
    for number in ("0612345678", "1002"):
        steps = dialplan.steps("decroche-transfer", _find(dialplan, "decroche-transfer", number))
        stasis = next(i for i, s in enumerate(steps) if s.app == "Stasis")
        assert steps[stasis].args == f"{AriConfig().app},${{EXTEN}},transfer"
        assert "STASISSTATUS" in steps[stasis + 1].args


def test_every_goto_target_exists(dialplan):
    checked = 0
    for context, extens in dialplan.contexts.items():
        labels = {s.label for steps in extens.values() for s in steps if s.label}
        for steps in extens.values():
            for step in steps:
                if step.app not in ("Goto", "GotoIf"):
                    continue
                targets = (
                    step.args.split("?", 1)[1].split(":") if step.app == "GotoIf" else [step.args]
                )
                for target in targets:
                    parts = target.replace("${CONTEXT}", context).split(",")
                    if len(parts) == 1:
                        assert parts[0] in labels, f"[{context}]: no label {parts[0]}"
                    else:
                        assert parts[0] in dialplan.contexts, f"[{context}]: goto {target}"
                        if "$" not in parts[1]:
                            _find(dialplan, parts[0], parts[1])
                    checked += 1
    assert checked >= 10


# --- ari.conf, http.conf, pjsip.conf.sample --------------------------------------------------


def test_ari_conf_enables_ari_for_the_configured_user():
    sections = parse_conf(ASTERISK / "ari.conf")
    general = one(sections, "general")
    assert general.get("enabled") == "yes"
    assert int(general.get("websocket_write_timeout") or 0) >= 500  # raised from 100 ms
    user = one(sections, AriConfig().username)
    assert user.get("type") == "user"
    assert user.get("read_only") == "no"
    assert "CHANGE_ME" in (user.get("password") or "")  # a placeholder, never a real secret


def test_ari_conf_outbound_websocket_example_is_complete_and_commented():
    text = (ASTERISK / "ari.conf").read_text(encoding="utf-8")
    example = {
        key: value for key, value in re.findall(r"^;\s*(\w+)\s*=\s*(\S+)", text, flags=re.MULTILINE)
    }
    assert example["type"] in ("outbound_websocket", "websocket_client")
    assert re.search(r"^;type = outbound_websocket$", text, flags=re.MULTILINE)
    assert re.search(r"^;apps = decroche\b", text, flags=re.MULTILINE)
    assert re.search(r"^;websocket_client_id = decroche_ws\b", text, flags=re.MULTILINE)
    assert re.search(r"^;\s+\[decroche_ws\]$", text, flags=re.MULTILINE)
    assert re.search(r"^;\s+protocols = ari$", text, flags=re.MULTILINE)
    assert all(s.get("type") != "outbound_websocket" for s in parse_conf(ASTERISK / "ari.conf"))


def test_http_conf_serves_ari_where_decroche_looks():
    general = one(parse_conf(ASTERISK / "http.conf"), "general")
    assert general.get("enabled") == "yes"
    assert general.get("bindaddr")
    url = urlparse(AriConfig().url)
    assert general.get("bindport") == str(url.port)
    assert url.hostname == general.get("bindaddr")


def test_pjsip_sample_endpoints_use_existing_contexts(dialplan):
    sections = parse_conf(ASTERISK / "pjsip.conf.sample")
    templates = {s.name: s for s in sections if s.templates == ["!"]}

    def option(section: Section, key: str) -> str | None:
        value = section.get(key)
        for name in section.templates:
            if value is None and name in templates:
                value = templates[name].get(key)
        return value

    endpoints = {
        s.name: s for s in sections if option(s, "type") == "endpoint" and s.templates != ["!"]
    }
    assert {"1001", "1002", "operateur"} <= set(endpoints)
    for name, endpoint in endpoints.items():
        assert option(endpoint, "context") in dialplan.contexts, name
        assert option(endpoint, "language") == "fr", name
    agent = endpoints["1001"]
    assert option(agent, "context") == "from-agents"
    # A phone on one call is BUSY for Asterisk, not merely in use: whatever rings by device
    # state (the fallback, decroche's routing) leaves it alone.
    agents = [s for s in endpoints.values() if option(s, "context") == "from-agents"]
    assert len(agents) >= 2
    assert all(option(a, "device_state_busy_at") == "1" for a in agents)
    assert option(agent, "set_var") == "TRANSFER_CONTEXT=decroche-transfer"
    assert option(endpoints["operateur"], "context") == "from-trunk"
    assert dialplan.globals["TRUNK"] == "operateur"


# --- deploy/ ---------------------------------------------------------------------------------


def test_example_configuration_is_valid_and_holds_no_secret():
    path = DEPLOY / "decroche.example.yaml"
    config = load_config(path, environ={})
    assert isinstance(config, Config)
    assert config.ari.app == AriConfig().app
    assert config.ari.password.get_secret_value() == ""
    assert config.storage.pseudonym_secret.get_secret_value() == ""
    assert config.storage.url.startswith("postgresql+psycopg://")
    raw = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert set(raw) == set(Config.model_fields)  # every section shown
    with_env = load_config(path, environ={"DECROCHE_ARI__PASSWORD": "s3cret"})
    assert with_env.ari.password.get_secret_value() == "s3cret"


def test_systemd_unit_runs_serve_with_secrets_from_an_environment_file():
    unit = {s.name: s for s in parse_conf(DEPLOY / "decroche.service", unit=True)}
    service = unit["Service"]
    exec_start = service.get("ExecStart") or ""
    assert re.search(r"decroche serve --config \S+\.yaml$", exec_start)
    assert (service.get("EnvironmentFile") or "").lstrip("-").startswith("/etc/decroche/")
    assert service.get("Restart") in ("on-failure", "always")
    assert service.get("KillSignal") == "SIGTERM"
    assert int(service.get("TimeoutStopSec") or 0) >= 10
    assert service.get("NoNewPrivileges") == "yes"
    assert service.get("User") == "decroche"
    assert unit["Install"].get("WantedBy") == "multi-user.target"
