"""decroche: the telephony layer of a town hall's contact centre.

The top-level packages follow the data flow, one way:

    telephony (ARI client, simulated PBX, call flow, call records)
      -> analytics (indicators from call records)
      -> reports (pages and PDF)

``routing_rules`` holds the rules IT edits and the pure routing decisions; ``ivr_prompts`` the
French prompt catalogue; ``whatif`` replays recorded traffic through other rules. This package
is the composition root (:mod:`decroche.app`): the configuration, the ``decroche`` command and
its subcommands (:mod:`decroche.commands`), the running service, its jobs and the web wiring.
Nothing below it imports it.
"""

__version__ = "0.1.0"
