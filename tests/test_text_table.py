"""The commands' tables in a terminal: one line per row when they fit or when the output is not
a terminal; in a narrower terminal, headings wrapped first, then names, then the figures in
blocks one under the other — every line within the terminal's width, no figure lost."""

from __future__ import annotations

import re

from decroche.commands.text import paragraphs, table, terminal_width

HEADERS = ["Service", "Appels présentés", "Appels décrochés", "Décrochés en 5 sonneries"]
ROWS = [
    ["Accueil juridique – espace du droit et de la famille", "14", "12", "12"],
    ["CCAS – centre communal d’action sociale", "1 048", "997", "990"],
]


def wide(columns: int) -> tuple[list[str], list[list[str]]]:
    headers = ["Service", *(f"Indicateur numéro {k}" for k in range(columns))]
    rows = [
        ["Résidence autonomie Lyliane-Carpentier", *(f"{k},5 %" for k in range(columns))],
        ["Pôle ados", *("100,0 %" for _ in range(columns))],
    ]
    return headers, rows


def test_one_line_per_row_when_it_fits_or_goes_to_a_file() -> None:
    natural = table(HEADERS, ROWS)
    assert len(natural) == 2 + len(ROWS)  # headings, dashes, one line a row
    assert table(HEADERS, ROWS, width=None) == natural
    assert table(HEADERS, ROWS, width=500) == natural


def test_headings_wrap_first_names_stay_whole_when_that_is_enough() -> None:
    natural = max(len(line) for line in table(HEADERS, ROWS))
    lines = table(HEADERS, ROWS, width=natural - 10)
    assert max(len(line) for line in lines) <= natural - 10
    dashes = lines.index(next(x for x in lines if x.startswith("---")))
    assert dashes > 1  # headings on several lines, the last of each on the dashes
    assert lines[dashes - 1].startswith("Service")
    body = lines[dashes + 1 :]
    assert len(body) == len(ROWS)  # names whole: one line a row still
    assert body[0].startswith("Accueil juridique – espace du droit et de la famille")


def test_names_wrap_next_never_below_their_longest_word() -> None:
    lines = table(HEADERS, ROWS, width=60)
    assert max(len(line) for line in lines) <= 60
    text = "\n".join(lines)
    assert "1 048" in text and "997" in text and "990" in text
    assert any(line.startswith("Accueil juridique") for line in lines)
    assert any(line.strip() == "famille" or line.endswith("famille") for line in lines)


def test_figures_in_even_blocks_each_with_the_names() -> None:
    headers, rows = wide(9)
    lines = table(headers, rows, width=90)
    assert max(len(line) for line in lines) <= 90
    blocks = "\n".join(lines).split("\n\n")
    assert len(blocks) >= 2
    per_block = [len(re.findall(r"\bnuméro\b", block)) for block in blocks]
    assert sum(per_block) == 9  # every column once
    assert max(per_block) - min(per_block) <= 1  # even: not eight, then one
    for block in blocks:
        assert "Résidence autonomie" in block and "Pôle ados" in block
    assert "\n".join(lines).count("100,0 %") == 9


def test_paragraphs_fold_between_words_at_the_width() -> None:
    sentence = (
        "638 appels reçus : 16 appels raccrochés dans le menu vocal, 77 appels reçus hors horaires."
    )
    assert paragraphs([sentence], None) == [sentence]
    folded = paragraphs([sentence, "Court."], 40)
    assert all(len(line) <= 40 for line in folded)
    assert " ".join(folded[:-1]) == sentence and folded[-1] == "Court."


def test_not_a_terminal_has_no_width() -> None:
    # pytest captures the output: what a script or a file gets.
    assert terminal_width() is None
