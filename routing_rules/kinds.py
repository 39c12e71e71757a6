"""The kinds the rules name (plain enumerations), apart from the file's model.

The compiled rules, the routing and the indicators use them; keeping them out of
:mod:`routing_rules.model` spares those readers the cost of building the file's pydantic
model (a tenth of a second) when they only need the rules already checked.
"""

from __future__ import annotations

from enum import StrEnum


class NumberChoice(StrEnum):
    ASK = "ask"  # the caller always keys in a number
    PRESENTED = "presented"  # the presented number is kept without asking
    CHOOSE = "choose"  # the caller chooses: keep the presented number or key in another


class Strategy(StrEnum):
    RING_ALL = "ring_all"  # every available agent at once
    IN_ORDER = "in_order"  # one after the other, in the listed order
    ROUND_ROBIN = "round_robin"  # one after the other, starting after the last one started with
    LONGEST_IDLE = "longest_idle"  # one after the other, longest since their last call first


class Scale(StrEnum):
    ONE_TO_FIVE = "1-5"
    YES_NO = "oui-non"  # 1 = oui, 2 = non
