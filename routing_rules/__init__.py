"""Routing rules: the YAML IT edits, its checks, and the pure routing decisions.

``loader.load_rules(path, catalogue) -> CompiledRules`` validates a file completely (every
problem as ``FILE:LINE:COL: message``) and compiles it; ``holder.RulesHolder`` keeps the rules in
force and reloads them; ``routing`` (entry, service, overflow chains, after ringing, callbacks
owed, surveys) and ``ivr`` (the menu state machine) decide, with ``now`` and the agents' state
passed in; ``outcomes`` holds the words those decisions and the call records share. See
docs/rules.md.
"""
