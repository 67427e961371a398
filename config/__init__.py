import zoneinfo

from config.env import load_environment

# One tz database for the whole service, Django's own time zone included: the pinned
# tzdata package, not the host's /usr/share/zoneinfo (see core/zones.py).
zoneinfo.reset_tzpath(to=())

# Before the Celery app reads Django's settings: `.env` first, then the default module.
load_environment()

from config.celery_app import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
