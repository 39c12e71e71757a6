"""The ``decroche`` commands, one module per area, all built on the composition root.

Each command gets its parts from the :class:`~decroche.app.App` of its ``--config`` and
``--db`` (:mod:`decroche.commands.context`); none reads the configuration or opens the database
itself. Modules are imported only when their command runs, so ``decroche --help`` and
``decroche rules check`` start without SQLAlchemy, the web stack or the simulator.

To add a command: a module here with a click command or group, and one line in
:data:`COMMANDS`.
"""

from __future__ import annotations

# name -> (module, attribute): the click command or group of each ``decroche`` subcommand.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("decroche.commands.serve", "serve"),
    "demo": ("decroche.commands.demo", "demo"),
    "web": ("decroche.commands.reports", "web"),
    "rules": ("decroche.commands.rules", "rules"),
    "prompts": ("decroche.commands.prompts", "prompts"),
    "indicators": ("decroche.commands.indicators", "indicators"),
    "survey": ("decroche.commands.survey", "survey"),
    "report": ("decroche.commands.reports", "report"),
    "users": ("decroche.commands.reports", "users"),
    "import": ("decroche.commands.records", "import_group"),
    "purge": ("decroche.commands.records", "purge"),
    "db": ("decroche.commands.records", "db"),
    "whatif": ("decroche.commands.whatif", "whatif"),
    "staffing": ("decroche.commands.staffing", "staffing"),
    "sim": ("decroche.commands.sim", "sim"),
    "audit": ("decroche.commands.audit", "audit"),
}

# One line each in ``decroche --help`` without importing the commands' modules.
SUMMARIES: dict[str, str] = {
    "serve": "Le service : routeur ARI, enregistrements, rapports planifiés, tableau de bord.",
    "demo": "Démonstration : PBX simulé, trafic de Bernay, indicateurs, tableau de bord.",
    "web": "Le tableau de bord seul (sans le routeur).",
    "rules": "Règles de routage : vérifier, simuler un appel, schéma JSON.",
    "prompts": "Messages vocaux : fabriquer les fichiers audio, leur durée.",
    "indicators": "Indicateurs téléphoniques d'une période, par service.",
    "survey": "Enquête de satisfaction : réponses et indicateurs.",
    "report": "Bilan mensuel et bilan annuel (HTML et PDF).",
    "users": "Comptes du tableau de bord.",
    "import": "Importer des appels d'un autre système (queue_log).",
    "purge": "Supprimer le détail des appels anciens, garder les indicateurs.",
    "db": "Base des appels : schéma et état.",
    "whatif": "Et si… : rejouer une période avec d'autres règles.",
    "staffing": "Effectifs : agents nécessaires par service, jour et heure, et agents présents.",
    "sim": "PBX simulé (ARI en HTTP et WebSocket).",
    "audit": "Audit interne : appeler chaque parcours par le standard et le vérifier.",
}
