from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError

from core.errors import BusinessError
from intake.screening import shipped_rule_set_data
from intake.services.questionnaires import questionnaire_definition_import
from intake.services.screening import rule_set_definition_import
from intake.services.versions import Imported

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


class Command(BaseCommand):
    help = (
        "Load the shipped questionnaire and screening rules: a changed file is "
        "published, or kept as a draft for review when an admin published their own "
        "version. Repeatable."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        try:
            rules = shipped_rule_set_data()
            for path in sorted(QUESTIONNAIRES.glob("*.yaml")):
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
                # Checked against the shipped rules, which are loaded next.
                version, imported = questionnaire_definition_import(
                    data=data, rules=rules
                )
                self._report(str(version), imported)
            rule_set, imported = rule_set_definition_import(data=rules)
            self._report(f"screening rules {rule_set}", imported)
        except BusinessError as error:
            raise CommandError(error.message) from error

    def _report(self, what: str, imported: Imported) -> None:
        if imported == Imported.DRAFTED:
            self.stdout.write(
                self.style.WARNING(
                    f"Saved {what} as a draft: the published version was edited in "
                    "the admin. Review the draft there and publish it if it is right."
                )
            )
        elif self.verbosity:
            verb = "Published" if imported == Imported.PUBLISHED else "Unchanged:"
            self.stdout.write(f"{verb} {what}")
