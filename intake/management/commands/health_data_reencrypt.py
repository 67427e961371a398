from typing import Any

from django.core.management.base import BaseCommand

from intake.services.encryption import health_data_reencrypt_all


class Command(BaseCommand):
    help = (
        "Re-encrypt stored health data with the first key of HEALTH_DATA_KEYS, so "
        "older keys can be removed afterwards. Safe to run again or to interrupt."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for table, count in health_data_reencrypt_all(
            progress=lambda table, done: self.stdout.write(f"  {table}: {done}")
        ).items():
            self.stdout.write(self.style.SUCCESS(f"{table}: {count} re-encrypted"))
