"""The production settings, plus the benchmark's baseline view (bench/urls.py) and
no rate limit: the load generator is one address sending hundreds of submissions."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
INTAKE_RATE_LIMIT = INTAKE_DRAFT_RATE_LIMIT = "1000000/hour"
DEMO_DATA_ALLOWED = True  # the demo clinic is where the submissions go
# The load generator answers faster than a person could: not a bot, a benchmark.
INTAKE_MIN_FILL_SECONDS = 0
