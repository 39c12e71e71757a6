"""What-if replays: last period's callers, played again through other routing rules.

Modules, by role (pure first, I/O last):

- ``traffic``: :func:`~whatif.traffic.traffic_from_records`, the traffic model a period's call
  records describe (arrivals, keys, patience, each phone's behaviour over time), and the entry
  routes of queue_log callers;
- ``parts``: :func:`~whatif.parts.quiet_parts` cuts a model where nobody is on the line, so
  that parts replay apart (side by side in worker processes);
- ``compare``: the indicators of records and the comparison recorded / current / new;
- ``replay`` (I/O): a model played on the simulated PBX against the real router, in virtual
  time; ``run``: the whole what-if of a period;
- ``jobs``: the simulations the IT page launches, each a ``decroche whatif`` child process;
- ``staffing``: a staffing plan checked by replaying its period with the recommended agents
  present slot by slot (``decroche staffing --verify``);
- ``errors``: the exception hierarchy.

It reads call records (``telephony.records.model``), runs the router and the simulated PBX
(``telephony``), computes the indicators with ``analytics``; it never imports ``decroche``.
See ``docs/whatif.md``.
"""
