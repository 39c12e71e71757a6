"""decroche: the telephony layer of a town hall's contact centre.

The top-level packages follow the data flow, one way:

    telephony (ARI client, simulated PBX, call flow, call records)
      -> analytics (indicators from call records)
      -> reports (pages and PDF)

``routing_rules`` holds the rules IT edits and the pure routing decisions; ``ivr_prompts`` the
French prompt catalogue. This package is the composition root: configuration, the ``decroche``
command, and the code that builds and wires the long-lived objects.
"""

__version__ = "0.1.0"
