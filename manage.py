#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import sys


def main() -> None:
    # Importing config reads `.env`, then picks config.settings.local unless told.
    from django.core.management import execute_from_command_line

    import config  # noqa: F401

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
