"""The production settings, plus the benchmark's baseline view (bench/urls.py) and
no rate limit: the load generator is one address sending hundreds of submissions."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
INTAKE_RATE_LIMIT = "1000000/hour"
DEMO_DATA_ALLOWED = True  # the demo clinic is where the submissions go
