from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.errors import BusinessError
from intake.demo import demo_submissions_load


class Command(BaseCommand):
    help = "Send the demo people's questionnaires, so the queue has leads. Repeatable."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            made = demo_submissions_load()
        except BusinessError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Demo questionnaires: {made} new."))
