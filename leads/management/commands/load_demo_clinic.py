from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.errors import BusinessError
from leads.demo import demo_clinic_load


class Command(BaseCommand):
    help = "Load the demo clinic: location, practitioners, staff logins. Repeatable."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            logins = demo_clinic_load()
        except BusinessError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS("Demo clinic loaded. Staff logins:"))
        for login in logins:
            self.stdout.write(
                f"  {login.role:<14} {login.username:<12} {login.password}"
            )
