from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from clinics.services import ApiTokenInvalid, api_token_create


class Command(BaseCommand):
    help = (
        "Make an API token for a login and print its key (only the key, on one line: "
        "it is not stored and cannot be shown again)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line")
        parser.add_argument(
            "--days", type=int, default=None, help="1 to 365 (default: API_TOKEN_DAYS)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No login named {options['username']!r}.")
        try:
            _token, key = api_token_create(
                user=user, name=options["name"], days=options["days"]
            )
        except ApiTokenInvalid as error:
            raise CommandError(f"{error.message} {error.fields}") from None
        self.stdout.write(key)
