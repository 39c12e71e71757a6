"""The French words of the calendar, one home for every layer that writes a date for a person:
the rules' narration, the audit's moments, the reports' periods and rules history."""

from __future__ import annotations

WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
