"""Routing rules: the YAML IT edits, its checks, and the pure routing decisions.

``loader.load_rules(path, catalogue) -> CompiledRules`` validates a file completely (every
problem as ``FILE:LINE:COL: message``) and compiles it; ``holder.RulesHolder`` keeps the rules in
force and reloads them; ``routing`` (entry, service, overflow chains, surveys) and ``ivr`` (the
menu state machine) decide, with ``now`` and the agents' state passed in. See docs/rules.md.
"""
