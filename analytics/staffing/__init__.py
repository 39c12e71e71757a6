"""Staffing: how many agents each service needs, slot by slot, to meet its objectives.

- :mod:`analytics.staffing.erlang`: the queueing formulas (Erlang B, C and A), pure numbers;
- :mod:`analytics.staffing.traffic`: the traffic of each service and slot, from the records;
- :mod:`analytics.staffing.plan`: the agents needed per slot, the model of each service and why.
"""
