"""Audit calls: decroche calls itself through the PBX and proves every path of the rules works.

``docs/audit.md`` tells IT and the quality lead what is checked and how to read the report. By
role:

- ``paths`` (pure): every path of the rules in force — each entry number × each key sequence
  reaching a service, a message or a callback, plus an invalid key and no key in each menu;
- ``expect`` (pure): where a path ends at one moment, from the routing decisions themselves (what
  ``decroche rules simulate`` says), and the moments of the coming months that change it;
- ``checks`` (pure): one audit call's observation and the simulated moments judged;
- ``robot`` (ARI): the robot caller — a Local channel into the callers' dialplan entry, keys by
  ARI DTMF when the menu waits, every prompt heard, the PBX left clean;
- ``run``: a run of the audit (the paths, the calls, the checks, the results stored);
- ``store``: runs and results, in tables of their own beside the call records (no indicator
  ever reads them).
"""
