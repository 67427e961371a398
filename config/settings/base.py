"""Settings shared by every environment, read from the environment (12-factor).

Each value has the zero-setup default of `make run`; production.py only tightens values
and requires secrets. The README has the table of every variable.
"""

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import django_stubs_ext
import environ
from corsheaders.defaults import default_headers
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config.networks import networks_parse
from config.origins import origins_parse

# Lets admin and form classes be subscripted for the type checker (ModelAdmin[Lead]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# config.env has already read a developer's .env into the environment.
env = environ.Env()

# Local state of the zero-setup stack: SQLite file, broker folders, beat schedule.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "core",
    "clinics",
    "intake",
    "leads",
    "booking",
    "followups",
    "anymail",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    # After django_otp: its admin replaces django-otp's device screen.
    "staff",
]

MIDDLEWARE = [
    # First: /healthz and /readyz answer before host checks, redirects and logging.
    "core.probes.ProbeMiddleware",
    # Early, to time all that follows; after the probes, which would swamp it.
    "core.metrics.RequestMetricsMiddleware",
    "core.requestid.RequestIdMiddleware",
    # The request's configuration token and memo (core.request_scope).
    "core.request_scope.RequestScopeMiddleware",
    # Before anything that answers on its own (CommonMiddleware, WhiteNoise), as
    # django-cors-headers asks; only the public API paths (CORS_URLS_REGEX).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.security.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "staff.sessions.IdleSignOutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After sessions, language and CSRF: a view that meets an unreachable database
    # answers 503 in the visitor's language, with the form's fields and a new token.
    "core.outages.OutageMiddleware",
    # Last: it counts failed sign-ins and refuses a locked-out one.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.clinic",
                "clinics.context_processors.branding",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker and the web process write to the same file: WAL and IMMEDIATE
    # transactions turn "database is locked" races into short waits.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that stops answering fails a request (and /readyz) in seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache (and later locks and rate limits): Redis when REDIS_URL is set.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "clinic",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "staff:login"
AUTHENTICATION_BACKENDS = [
    # Refuses a sign-in that is locked out, before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one account from one address lock it there for 15
# minutes; a right one clears the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "staff/locked.html"
AXES_VERBOSE = False
# API tokens (clinics.tokens): made for API_TOKEN_DAYS unless their owner chooses
# (at most 365). Wrong keys from one address, API_TOKEN_LOCKOUT_FAILURES of them in
# API_TOKEN_LOCKOUT_WINDOW_MINUTES, lock token sign-in from there for
# API_TOKEN_LOCKOUT_MINUTES (429 with Retry-After).
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=90)
if not 1 <= API_TOKEN_DAYS <= 365:
    raise ImproperlyConfigured(
        f"API_TOKEN_DAYS is a number of days from 1 to 365, not {API_TOKEN_DAYS}"
    )
API_TOKEN_LOCKOUT_FAILURES = env.int("API_TOKEN_LOCKOUT_FAILURES", default=20)
API_TOKEN_LOCKOUT_WINDOW_MINUTES = env.int(
    "API_TOKEN_LOCKOUT_WINDOW_MINUTES", default=10
)
API_TOKEN_LOCKOUT_MINUTES = env.int("API_TOKEN_LOCKOUT_MINUTES", default=15)
# A staff sign-in lasts as long as the clinic sets (staff.sessions); a session
# begun otherwise (the patient's) ends after a working day.
SESSION_COOKIE_AGE = 10 * 60 * 60
# Clinic admins give a code from an authenticator app after their password
# (staff.access); off only for tests that are not about signing in.
STAFF_SECOND_FACTOR = env.bool("STAFF_SECOND_FACTOR", default=True)

# Languages and time: the clinic's time zone decides working hours and deadlines.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("tr", "Türkçe")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Istanbul")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (patient photos) are private: never under STATIC_ROOT, never served
# by the web server directly.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Email: SMTP by default; EMAIL_URL=consolemail:// prints messages instead.
_email = env.email_url("EMAIL_URL", default="smtp://localhost:25")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Clinic <clinic@example.com>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Error reports by email would carry request data (health answers): none are sent.
ADMINS: list[tuple[str, str]] = []

CLINIC_NAME = env.str("CLINIC_NAME", default="Demo Aesthetic Clinic")
# The name authenticator apps show beside a staff member's code.
OTP_TOTP_ISSUER = CLINIC_NAME
# The mail provider's bounce and complaint webhooks (django-anymail), at /anymail/:
# served only with a secret (basic auth, "user:password"); a provider that signs its
# webhooks also needs its key (e.g. MAILGUN_WEBHOOK_SIGNING_KEY).
EMAIL_WEBHOOK_SECRET = env.str("EMAIL_WEBHOOK_SECRET", default="")
# Whose tracking webhook is served: mailgun, postmark, sendgrid, brevo, ... (Anymail's
# name for the provider).
EMAIL_WEBHOOK_PROVIDER = env.str("EMAIL_WEBHOOK_PROVIDER", default="mailgun")
ANYMAIL: dict[str, str] = {
    name: value
    for name, value in {
        "WEBHOOK_SECRET": EMAIL_WEBHOOK_SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": env.str(
            "MAILGUN_WEBHOOK_SIGNING_KEY", default=""
        ),
    }.items()
    if value
}
# Follow-ups: at most this many timed messages to one person in 24 hours.
FOLLOWUP_DAILY_CAP = env.int("FOLLOWUP_DAILY_CAP", default=2)
# How long a message being sent is its worker's before another may take it (a worker
# that died mid-send leaves it so).
FOLLOWUP_SEND_LEASE_SECONDS = env.int("FOLLOWUP_SEND_LEASE_SECONDS", default=300)
# The due sweep hands follow-ups to workers this many at a time (one task, one SMTP
# connection each); a batch stops after FOLLOWUP_BATCH_SECONDS and hands on the
# rest, so a message due at once waits behind at most one batch.
FOLLOWUP_BATCH_SIZE = env.int("FOLLOWUP_BATCH_SIZE", default=50)
FOLLOWUP_BATCH_SECONDS = env.float("FOLLOWUP_BATCH_SECONDS", default=0.5)
# Intake. Health answers are encrypted with the first key; any listed key decrypts.
HEALTH_DATA_KEYS = env.list("HEALTH_DATA_KEYS", default=[])
# Stored credentials (a practitioner's CalDAV login), the same way (core/secrets.py).
SECRET_DATA_KEYS = env.list("SECRET_DATA_KEYS", default=[])
INTAKE_DRAFT_DAYS = env.int("INTAKE_DRAFT_DAYS", default=30)
# Practitioners' calendars: the domain in each booking's event UID. Never change it
# once events exist: calendars would hold each booking twice.
CALENDAR_UID_DOMAIN = env.str(
    "CALENDAR_UID_DOMAIN", default=urlsplit(SITE_URL).hostname or "localhost"
)
# How long a booking link works (and at least until the day after the visit).
BOOKING_LINK_DAYS = env.int("BOOKING_LINK_DAYS", default=30)
INTAKE_MIN_FILL_SECONDS = env.int("INTAKE_MIN_FILL_SECONDS", default=20)
# Abuse limits of the public questionnaire (docs/rate-limits.md): a count per window
# ("3/day", "30/10minutes"), kept in Redis and let through when it is down. What an
# abuser has to spend is counted tightly; a network address, which many people can
# share (mobile carriers' NAT, a clinic's Wi-Fi), only as a generous outer bound.
# Submissions accepted, per network address, per email address and per phone number:
INTAKE_RATE_LIMIT = env.str("INTAKE_RATE_LIMIT", default="60/hour")
INTAKE_RATE_LIMIT_EMAIL = env.str("INTAKE_RATE_LIMIT_EMAIL", default="3/day")
INTAKE_RATE_LIMIT_PHONE = env.str("INTAKE_RATE_LIMIT_PHONE", default="3/day")
# Questionnaires started per address: quickly (under INTAKE_START_READ_SECONDS after
# the start page was shown, as a script does), and after reading the page; per
# browser session.
INTAKE_DRAFT_RATE_LIMIT = env.str("INTAKE_DRAFT_RATE_LIMIT", default="30/10minutes")
INTAKE_DRAFT_RATE_LIMIT_READ = env.str(
    "INTAKE_DRAFT_RATE_LIMIT_READ", default="120/10minutes"
)
INTAKE_DRAFT_RATE_LIMIT_SESSION = env.str(
    "INTAKE_DRAFT_RATE_LIMIT_SESSION", default="10/hour"
)
INTAKE_START_READ_SECONDS = env.int("INTAKE_START_READ_SECONDS", default=3)
# "Save and finish later" links per address (cache) and per inbox across drafts
# (counted in the database, so it holds with Redis down); one per draft every five
# minutes besides.
INTAKE_RESUME_RATE_LIMIT = env.str("INTAKE_RESUME_RATE_LIMIT", default="20/hour")
INTAKE_RESUME_RATE_LIMIT_RECIPIENT = env.str(
    "INTAKE_RESUME_RATE_LIMIT_RECIPIENT", default="3/hour"
)
# The clinic's own websites (e.g. https://www.clinic.example): they may show the
# patient pages in a frame (core.security.embeddable) and call the public API.
INTAKE_EMBED_ORIGINS = origins_parse(
    "INTAKE_EMBED_ORIGINS", env.list("INTAKE_EMBED_ORIGINS", default=[])
)
# The largest request body read at all: the form's photo step (three photos of up
# to 10 MB) and room for its fields; larger is refused by its Content-Length first.
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=32 * 1024 * 1024)
# Who may read /metrics without signing in: the Prometheus server's addresses or
# networks ("10.0.0.5,10.1.0.0/16"), matched against the connection's own address
# (REMOTE_ADDR), never X-Forwarded-For. Signed-in staff may read it too.
METRICS_ALLOWED_ADDRESSES = networks_parse(
    "METRICS_ALLOWED_ADDRESSES", env.list("METRICS_ALLOWED_ADDRESSES", default=[])
)
# How many proxies in front of the web process append to X-Forwarded-For; 0 trusts
# none and uses the connection's address. Rate limits key on the address found.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Outgoing webhooks: a failed delivery is tried again after the base, then twice as
# long after each further failure, up to the maximum number of attempts.
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)

# Leads. How emails match one person: lower case always; "plus_tags" drops "+tag",
# "gmail_dots" drops dots in Gmail addresses, "all_dots" in every address.
LEAD_EMAIL_MATCHING = env.list(
    "LEAD_EMAIL_MATCHING", default=["plus_tags", "gmail_dots"]
)
if set(LEAD_EMAIL_MATCHING) - {"plus_tags", "gmail_dots", "all_dots"}:
    raise ImproperlyConfigured(
        "LEAD_EMAIL_MATCHING takes plus_tags, gmail_dots and all_dots only, "
        f"not {LEAD_EMAIL_MATCHING}"
    )
# Working minutes (of the location's opening hours) to the first contact, by
# priority, e.g. "high=5,normal=60,low=540"; a priority left out keeps its default.
# Low's "one working day" is 540 minutes: 9 hours, a weekday of the default hours.
_first_contact_minutes = env.dict("LEAD_FIRST_CONTACT_MINUTES", default={})
if set(_first_contact_minutes) - {"high", "normal", "low"}:
    raise ImproperlyConfigured(
        "LEAD_FIRST_CONTACT_MINUTES takes high=, normal= and low= only, "
        f"not {sorted(_first_contact_minutes)}"
    )
LEAD_FIRST_CONTACT_MINUTES: dict[str, int] = {
    "high": 5,
    "normal": 60,
    "low": 540,
    **{key: int(value) for key, value in _first_contact_minutes.items()},
}

# Only development and test settings may load the demo clinic and its known passwords.
DEMO_DATA_ALLOWED = False

# Celery: JSON only, acknowledge after the work is done, state in our own tables.
# "localhost" only keeps kombu from warning; the folders below are the broker.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
    if CELERY_BROKER_URL.startswith("filesystem://")
    else {
        # Longer than any task may run, so a slow task is not delivered twice.
        "visibility_timeout": 3600,
        # A worker takes from its queues in the order CELERY_TASK_QUEUES lists
        # them, not in turn: an acknowledgment never waits behind more than the
        # bulk batch in progress, however long the bulk queue.
        "queue_order_strategy": "priority",
    }
)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Messages due at once (a patient's acknowledgment) have a queue of their own, and
# the due sweep's batches another: a worker started without -Q consumes every queue
# declared here, in this order on Redis (queue_order_strategy "priority" above;
# kombu's default takes them in turn, which gave the bulk queue a third of one
# worker while acknowledgments queued up: bench/speed_to_lead.py). So an
# acknowledgment waits behind at most the bulk batch in progress.
# Each queue bound by its own name: bound alike, every task would go to all three.
CELERY_TASK_QUEUES = [
    Queue(name, routing_key=name)
    for name in dict.fromkeys(["now", CELERY_TASK_DEFAULT_QUEUE, "bulk"])
]
CELERY_TASK_ROUTES = {
    "followups.tasks.followup_message_send_task": {"queue": "now"},
    "followups.tasks.followup_messages_send_task": {"queue": "bulk"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that loses Redis keeps trying (every 2 s, then up to every 30 s) for as
# long as it is away, rather than giving up after 100 attempts (about 45 minutes).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A task running when Redis goes away finishes (its work is claimed in the database);
# cancelling it could stop an email mid-send and send it twice after the lease.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The periodic work, in code so every deployment runs the same schedule.
HEARTBEAT_INTERVAL_SECONDS = 60.0
# Each worker process's own heartbeat (core/workers.py): a worker unseen for three of
# these is taken for dead, and the outbox rows it was sending are free again then
# rather than at the end of their lease.
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "heartbeat": {
        "task": "core.tasks.heartbeat_record_task",
        "schedule": HEARTBEAT_INTERVAL_SECONDS,
    },
    "intake-draft-purge": {
        "task": "intake.tasks.intake_draft_purge_expired_task",
        "schedule": 3600.0,
    },
    "intake-resume-emails-send-due": {
        "task": "intake.tasks.resume_email_send_due_task",
        "schedule": 60.0,
    },
    "lead-deadlines-escalate": {
        "task": "leads.tasks.lead_deadlines_escalate_task",
        "schedule": 60.0,
    },
    "lead-retention-erase": {
        "task": "leads.tasks.lead_retention_erase_due_task",
        "schedule": 3600.0,
    },
    "outbox-send-due": {
        "task": "leads.tasks.outbox_send_due_task",
        "schedule": 60.0,
    },
    "webhook-deliveries-send-due": {
        "task": "leads.webhooks.tasks.webhook_delivery_send_due_task",
        "schedule": 60.0,
    },
    "calendar-syncs-send-due": {
        "task": "booking.tasks.calendar_sync_send_due_task",
        "schedule": 60.0,
    },
    "followups-schedule-due": {
        "task": "followups.tasks.followup_schedule_due_task",
        "schedule": 60.0,
    },
    "followups-send-due": {
        "task": "followups.tasks.followup_send_due_task",
        "schedule": 60.0,
    },
    "calendar-busy-import": {
        "task": "booking.tasks.calendar_busy_import_due_task",
        "schedule": 300.0,
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First: its "Token" challenge makes a refused key a 401, not a 403.
        "clinics.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.error_responses.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # A JSON API: form encodings would read "" as null and blur what a client meant.
    # Bounded in depth, and refusing text the database cannot store: core/parsers.py.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.LimitedJSONParser"],
    "DEFAULT_THROTTLE_RATES": {"screening_evaluate": "60/minute"},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
# CORS: the clinic's sites may call the anonymous API (the questionnaire, submissions,
# screening), never the staff API, and never with cookies or credentials.
CORS_ALLOWED_ORIGINS = INTAKE_EMBED_ORIGINS
CORS_URLS_REGEX = (
    r"^/api/v1/(questionnaires/[-\w]+|submissions|screening/(evaluate|rule-set))$"
)
CORS_ALLOW_CREDENTIALS = False
# A refused submission's wait, readable by the clinic site's script.
CORS_EXPOSE_HEADERS = ("Retry-After",)
CORS_ALLOW_METHODS = ("GET", "OPTIONS", "POST")
CORS_ALLOW_HEADERS = (*default_headers, "idempotency-key")
SPECTACULAR_SETTINGS = {
    "TITLE": "Clinic intake and leads API",
    "DESCRIPTION": "Questionnaires, submissions, screening, leads and bookings.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The answers of sign-in and the body limit, on every operation they guard.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.error_responses.schema_layer_errors_add",
    ],
    # Swagger UI assets are served from this server: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two models' "status": each enum gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "BookingStatusEnum": "booking.models.Booking.Status",
        "LeadStatusEnum": "leads.models.Lead.Status",
    },
}

# Logging: one JSON object a line on stdout, each with the request id. Log records
# name people and submissions by id only; see core/logs.py.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
# One line a request: method, view name, status, time (runserver writes its own).
ACCESS_LOG = env.bool("ACCESS_LOG", default=True)
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "core.logs.JsonFormatter"},
        "text": {"()": "core.logs.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Replaces Django's defaults, which would mail error reports to ADMINS.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {
            "handlers": ["console"],
            "level": LOG_LEVEL,
            "propagate": False,
        },
        "celery": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Its lock-outs (warnings) matter; a line per sign-in does not.
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
