"""Settings of the Get Resto back office, all read from environment variables.

GETRESTO_ENV picks the defaults: "production" (the default, strict and secure),
"development" (the run command) or "test" (the test suite). Every variable is
listed in the README.
"""

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from getresto import embedded
from getresto.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("GETRESTO_VAR_DIR", str(BASE_DIR / "var")))

ENVIRONMENT = env_str("GETRESTO_ENV", "production")
if ENVIRONMENT not in {"production", "development", "test"}:
    raise ImproperlyConfigured("GETRESTO_ENV must be production, development or test.")
IS_PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DEBUG", ENVIRONMENT == "development")

_INSECURE_KEY_PREFIX = "django-insecure-"
if IS_PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY")
    if SECRET_KEY.startswith(_INSECURE_KEY_PREFIX) or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be a random value of at least 50 characters.")
else:
    SECRET_KEY = env_str("SECRET_KEY", _INSECURE_KEY_PREFIX + "local-development-only-" + "x" * 30)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if IS_PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # hubrise_sync comes before orders so that its templates can fill the
    # extension points that the orders templates leave for it.
    "hubrise_sync",
    "orders",
    "team",
    "menu",
    "printing",
    # The admin, for superusers only (getresto/admin_site.py).
    "getresto.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Live refreshes that find nothing new are answered here, before the rest of the stack (orders.live_poll).
    "orders.live_poll.LivePollMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    # API paths answer a JSON 503 when the database is unreachable.
    "getresto.middleware.DatabaseUnavailableAsJSON",
]

ROOT_URLCONF = "getresto.urls"
WSGI_APPLICATION = "getresto.wsgi.application"

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
            ],
        },
    },
]


def _service_url(name: str, example: str) -> str:
    """PostgreSQL and Redis everywhere: production names its servers, development and the tests
    default to the ones that dev.py embeds in the var folder (getresto/embedded.py)."""
    url = env_str(name, "")
    if not url and not IS_PRODUCTION:
        url = embedded.urls(VAR_DIR, ENVIRONMENT).get(name, "")
    if not url:
        hint = "" if IS_PRODUCTION else " (`python3 dev.py run` and `dev.py test` start a PostgreSQL and a Redis for you)"
        raise ImproperlyConfigured(f"Set {name}, e.g. {example}{hint}.")
    return url


DATABASES = {
    "default": dj_database_url.parse(
        _service_url("DATABASE_URL", "postgres://user:password@host:5432/getresto"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60 if IS_PRODUCTION else 0),
        # A kept connection is checked before a request reuses it: after a database restart
        # the first page of each web worker would otherwise fail on the dead connection.
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
    )
}
# The statements run on every order and webhook event are prepared once per connection (getresto.statements).
# A pooler in transaction mode (PgBouncer's default) hands a process other server connections, where they do
# not exist: set this to false behind one.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must be a PostgreSQL URL (postgres://…): SQLite is no longer supported.")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A manager's password reset link (team app) works once, for a day.
PASSWORD_RESET_TIMEOUT = 24 * 3600
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "orders:home"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection: a burst of wrong passwords locks that username from
# that address for a while, without locking out colleagues at the same till; many
# more across usernames (password spraying) lock the address (getresto.login_throttle).
AXES_ENABLED = env_bool("AXES_ENABLED", ENVIRONMENT != "test")
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 20)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 100)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", 0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "getresto.login_throttle.AddressCeilingHandler"
AXES_RESET_ON_SUCCESS = True

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates day first (en-GB) rather than Django's American "en": getresto/formats/en/.
FORMAT_MODULE_PATH = ["getresto.formats"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if IS_PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
}
# How long the intake API remembers an Idempotency-Key and its answer (orders.api.idempotency).
IDEMPOTENCY_KEY_HOURS = env_float("IDEMPOTENCY_KEY_HOURS", 24)
SPECTACULAR_SETTINGS = {
    "TITLE": "Get Resto back office API",
    "DESCRIPTION": "Order intake for the ordering front, and the HubRise webhook.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages load Swagger UI and Redoc from our static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.status.OrderStatus",
        "StatusChangeSourceEnum": "orders.models.StatusChange.Source",
    },
}

# Celery, on Redis: the rate limiter and the drains keep their shared state there too.
CELERY_BROKER_URL = _service_url("CELERY_BROKER_URL", "redis://host:6379/0")
if IS_PRODUCTION and not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("CELERY_BROKER_URL must be a Redis URL (redis://… or rediss://…).")
# Django's cache on the broker's Redis, under its own key prefix: sessions are read from it (getresto.sessions),
# so that a page, and above all a live refresh that finds nothing new, costs no query for them.
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CELERY_BROKER_URL,
            "KEY_PREFIX": "gr:cache",
            # Short, as for every other use of this Redis: a page must not hang on it (getresto.redis).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
SESSION_ENGINE = "getresto.sessions"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # No acknowledgements kept in Redis. When the connection to Redis drops
    # while a task is unacknowledged, kombu's restoring of it fails inside the
    # worker (AttributeError in restore_unacked), the worker exits, and nothing
    # is delivered until someone restarts it. Broker-side redelivery is not
    # needed: a delivery whose task was lost is sent again by the outbox's lease
    # and sweep, a recorded callback event by the pending-events sweep, and a
    # lost poll or reconciliation runs at its next beat.
    "ack_emulation": False,
    # Publishing must not hang a staff member's request when Redis is down:
    # the outbox sweep delivers what could not be queued.
    "max_retries": 1,
    # …and without the 2 s pause kombu takes before its one retry.
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

# HubRise. Without real credentials the run command points these at the
# HubRise sandbox that ships with the project.
HUBRISE_API_URL = env_str("HUBRISE_API_URL", "https://api.hubrise.com/v1")
HUBRISE_OAUTH_URL = env_str("HUBRISE_OAUTH_URL", "https://manager.hubrise.com/oauth2/v1")
HUBRISE_CLIENT_ID = env_str("HUBRISE_CLIENT_ID", "")
HUBRISE_CLIENT_SECRET = env_str("HUBRISE_CLIENT_SECRET", "")
HUBRISE_CONNECT_TIMEOUT = env_float("HUBRISE_CONNECT_TIMEOUT", 3.05)
HUBRISE_READ_TIMEOUT = env_float("HUBRISE_READ_TIMEOUT", 10.0)
PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000")
# Where open screens listen for changes (the Procfile's "stream" process, orders.live_stream): empty when a
# reverse proxy sends …/live/stream/ to it on the pages' own origin; its origin (http://127.0.0.1:8001) when it
# answers on a port of its own, as under `python dev.py run`. Pages that cannot reach it poll every 3 s.
LIVE_STREAM_URL = env_str("LIVE_STREAM_URL", "").rstrip("/")
# How often an open stream checks that its session and its permission still stand (and says it is alive).
LIVE_STREAM_CHECK_SECONDS = env_int("LIVE_STREAM_CHECK_SECONDS", 20)
# "active": HubRise POSTs order events to PUBLIC_URL/hubrise/callback/; "passive":
# we poll them. "auto" (the default) is passive when PUBLIC_URL is this machine, active otherwise.
HUBRISE_CALLBACK_MODE = env_str("HUBRISE_CALLBACK_MODE", "auto")
if HUBRISE_CALLBACK_MODE not in {"auto", "active", "passive"}:
    raise ImproperlyConfigured("HUBRISE_CALLBACK_MODE must be auto, active or passive.")
# Key that encrypts HubRise access tokens at rest; defaults to one derived
# from SECRET_KEY so that a single secret is enough to start.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "")

# Pushing orders to HubRise (hubrise_sync.outbox). Retries back off exponentially
# from BASE seconds up to CAP, without a limit in count; a worker owns a message
# for LEASE seconds (longer than a lookup plus a call can take) before another
# may take it over; the sweep re-queues a due message once REQUEUE_AFTER seconds
# have passed since it was last queued.
HUBRISE_PUSH_BACKOFF_BASE = env_float("HUBRISE_PUSH_BACKOFF_BASE", 2.0)
HUBRISE_PUSH_BACKOFF_CAP = env_float("HUBRISE_PUSH_BACKOFF_CAP", 600.0)
HUBRISE_PUSH_LEASE = env_float("HUBRISE_PUSH_LEASE", 2 * (HUBRISE_CONNECT_TIMEOUT + HUBRISE_READ_TIMEOUT) + 15)
HUBRISE_PUSH_REQUEUE_AFTER = env_float("HUBRISE_PUSH_REQUEUE_AFTER", 60.0)
HUBRISE_SWEEP_INTERVAL = env_float("HUBRISE_SWEEP_INTERVAL", 10.0)
# How many worker processes deliver at once (each runs one drain at a time), how
# many calls a drain keeps going side by side (threads, on PostgreSQL), and for
# how long a drain delivers before it leaves its turn to the other tasks.
HUBRISE_PUSH_DELIVERERS = env_int("HUBRISE_PUSH_DELIVERERS", 4)
HUBRISE_PUSH_DRAIN_THREADS = env_int("HUBRISE_PUSH_DRAIN_THREADS", 2)
HUBRISE_PUSH_DRAIN_SECONDS = env_float("HUBRISE_PUSH_DRAIN_SECONDS", 2.0)
# Our share of HubRise's per-connection limits (500/min, 2500/h, 10000/day, 10
# heavy queries/min), kept a little lower for the other calls made with the token.
HUBRISE_RATE_LIMITS = {
    "minute": env_int("HUBRISE_RATE_LIMIT_MINUTE", 450),
    "hour": env_int("HUBRISE_RATE_LIMIT_HOUR", 2300),
    "day": env_int("HUBRISE_RATE_LIMIT_DAY", 9500),
    "heavy_minute": env_int("HUBRISE_RATE_LIMIT_HEAVY_MINUTE", 8),
}
CELERY_BEAT_SCHEDULE = globals().get("CELERY_BEAT_SCHEDULE", {})
CELERY_BEAT_SCHEDULE["hubrise-push-sweep"] = {
    "task": "hubrise_sync.push.sweep",
    "schedule": HUBRISE_SWEEP_INTERVAL,
    # A sweep that waited longer than its interval is replaced by the next one.
    "options": {"expires": HUBRISE_SWEEP_INTERVAL},
}

# Receiving from HubRise (hubrise_sync.inbound). Callback bodies above MAX_BYTES
# are refused unread; passive callbacks are polled every POLL_INTERVAL seconds
# (HubRise asks for no more than every 30 s); reconciliation compares up to
# BUDGET_PER_DAY unfinished orders a day per connection with HubRise (10% of its
# 10,000 calls a day), spread over runs every RECONCILE_INTERVAL seconds, for
# orders at most MAX_AGE_HOURS old.
HUBRISE_WEBHOOK_MAX_BYTES = env_int("HUBRISE_WEBHOOK_MAX_BYTES", 1024 * 1024)
# How many worker processes apply recorded callback events at once (each takes a share of them).
HUBRISE_INBOUND_APPLIERS = env_int("HUBRISE_INBOUND_APPLIERS", 2)
HUBRISE_POLL_INTERVAL = env_float("HUBRISE_POLL_INTERVAL", 30.0)
if HUBRISE_POLL_INTERVAL < 30:
    raise ImproperlyConfigured("HUBRISE_POLL_INTERVAL must be at least 30 seconds (HubRise's rule).")
HUBRISE_RECONCILE_INTERVAL = env_float("HUBRISE_RECONCILE_INTERVAL", 300.0)
HUBRISE_RECONCILE_BUDGET_PER_DAY = env_int("HUBRISE_RECONCILE_BUDGET_PER_DAY", 1000)
HUBRISE_RECONCILE_MAX_AGE_HOURS = env_int("HUBRISE_RECONCILE_MAX_AGE_HOURS", 48)
CELERY_BEAT_SCHEDULE = globals().get("CELERY_BEAT_SCHEDULE", {})
# Beat looks every 10 s for connections whose last poll is POLL_INTERVAL old, so
# each is polled every 30-40 s and never sooner, whatever beat's jitter.
CELERY_BEAT_SCHEDULE["hubrise-poll-passive-callbacks"] = {
    "task": "hubrise_sync.tasks.inbound.poll_passive_callbacks",
    "schedule": 10.0,
    "options": {"expires": 10.0},
}
CELERY_BEAT_SCHEDULE["hubrise-apply-pending-events"] = {
    "task": "hubrise_sync.tasks.inbound.apply_pending_events",
    "schedule": 10.0,
    "options": {"expires": 10.0},
}
# Seconds a menu change waits for the next ones before the whole menu is PUT to HubRise
# (when the manager asked for automatic sending): ten edits in a minute make one PUT.
HUBRISE_CATALOG_PUSH_DEBOUNCE = env_float("HUBRISE_CATALOG_PUSH_DEBOUNCE", 60.0)
# Catalog imports and inventory reads whose task was lost (broker down, worker killed).
CELERY_BEAT_SCHEDULE["hubrise-catalog-sweep"] = {
    "task": "hubrise_sync.tasks.catalog.requeue_stale_imports",
    "schedule": 30.0,
    "options": {"expires": 30.0},
}
CELERY_BEAT_SCHEDULE["hubrise-reconcile-orders"] = {
    "task": "hubrise_sync.tasks.inbound.reconcile_orders",
    "schedule": HUBRISE_RECONCILE_INTERVAL,
    "options": {"expires": HUBRISE_RECONCILE_INTERVAL},
}

# Callbacks refused for their signature (hubrise_sync.quarantine): anyone can POST them,
# so of each only the first KEEP_BYTES are kept (a genuine event fits whole and can be
# replayed), at most MAX_PER_HOUR a clock hour (the rest only counted), and one address
# past PER_ADDRESS_MINUTE refusals in a minute is answered 429 until the minute ends.
HUBRISE_QUARANTINE_KEEP_BYTES = env_int("HUBRISE_QUARANTINE_KEEP_BYTES", 16 * 1024)
HUBRISE_QUARANTINE_MAX_PER_HOUR = env_int("HUBRISE_QUARANTINE_MAX_PER_HOUR", 100)
HUBRISE_QUARANTINE_PER_ADDRESS_MINUTE = env_int("HUBRISE_QUARANTINE_PER_ADDRESS_MINUTE", 20)

# Retention (hubrise_sync.retention, run by beat every RETENTION_INTERVAL seconds): what
# is older than this many days is deleted. Pending events and undelivered messages never are.
HUBRISE_QUARANTINE_RETENTION_DAYS = env_float("HUBRISE_QUARANTINE_RETENTION_DAYS", 7)
HUBRISE_EVENT_RETENTION_DAYS = env_float("HUBRISE_EVENT_RETENTION_DAYS", 30)
HUBRISE_OUTBOX_RETENTION_DAYS = env_float("HUBRISE_OUTBOX_RETENTION_DAYS", 30)
RETENTION_INTERVAL = env_float("RETENTION_INTERVAL", 3600.0)
# hubrise_sync.tasks imports the modules of the sync engine; the retention task is registered here.
CELERY_IMPORTS = ["hubrise_sync.tasks.retention"]
CELERY_BEAT_SCHEDULE["purge-old-records"] = {
    "task": "hubrise_sync.tasks.retention.purge_old_records",
    "schedule": RETENTION_INTERVAL,
    "options": {"expires": RETENTION_INTERVAL},
}
# Kitchen tickets (printing.jobs). A printer gets CONNECT_TIMEOUT seconds to accept
# the connection and IO_TIMEOUT seconds for each read or write after that; a
# failed job is retried after BACKOFF_BASE seconds, doubling up to BACKOFF_CAP,
# with jitter and no limit in count. A worker owns a job for LEASE seconds; the
# sweep (every SWEEP_INTERVAL seconds) wakes the drains for due jobs whose drain
# was queued more than REQUEUE_AFTER seconds ago. Staff see a banner once a
# printer has failed for BANNER_AFTER seconds.
PRINTING_CONNECT_TIMEOUT = env_float("PRINTING_CONNECT_TIMEOUT", 3.0)
PRINTING_IO_TIMEOUT = env_float("PRINTING_IO_TIMEOUT", 10.0)
PRINTING_BACKOFF_BASE = env_float("PRINTING_BACKOFF_BASE", 2.0)
PRINTING_BACKOFF_CAP = env_float("PRINTING_BACKOFF_CAP", 60.0)
PRINTING_LEASE = env_float("PRINTING_LEASE", PRINTING_CONNECT_TIMEOUT + 3 * PRINTING_IO_TIMEOUT + 10)
PRINTING_REQUEUE_AFTER = env_float("PRINTING_REQUEUE_AFTER", 30.0)
PRINTING_SWEEP_INTERVAL = env_float("PRINTING_SWEEP_INTERVAL", 5.0)
PRINTING_BANNER_AFTER = env_float("PRINTING_BANNER_AFTER", 60.0)
# Drains queued at most at once (each a worker process), and printers each drain serves side by side (threads).
PRINTING_DRAINS = env_int("PRINTING_DRAINS", 2)
PRINTING_DRAIN_THREADS = env_int("PRINTING_DRAIN_THREADS", 4)
PRINTING_DRAIN_SECONDS = env_float("PRINTING_DRAIN_SECONDS", 5.0)
CELERY_BEAT_SCHEDULE["printing-sweep"] = {
    "task": "printing.sweep",
    "schedule": PRINTING_SWEEP_INTERVAL,
    "options": {"expires": PRINTING_SWEEP_INTERVAL},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# Content-Security-Policy (django-csp): scripts, styles and everything else from our own
# origin only, no inline script or style, no plugin, no framing. Pico's icons are data:
# images. The API docs pages loosen it for what Swagger UI and Redoc need (orders/api/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF, *([LIVE_STREAM_URL] if LIVE_STREAM_URL else [])],
        "media-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
