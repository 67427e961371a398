from typing import Any

from django.core.management.base import BaseCommand, CommandError

from booking.demo import demo_booking_load
from core.errors import BusinessError


class Command(BaseCommand):
    help = "Load the demo clinic's appointment types and weekly hours. Repeatable."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = demo_booking_load()
        except BusinessError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Demo booking loaded: {count} appointment types.")
        )
