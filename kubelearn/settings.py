"""kubelearn settings: one module, every deployment difference comes from the environment.

Variables: DEBUG, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL, plus the
optional ones documented next to where they are read. With none set and
DEBUG=1 (what `make run` does) the service runs on SQLite with tasks executed
in-process, so a fresh clone needs nothing else.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from kubelearn.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KUBELEARN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", default=False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production needs a long random SECRET_KEY in the environment "
            "(for local development set DEBUG=1 and a key is generated for you)."
        )
    # Local development: a random key kept beside the SQLite database, so sessions
    # survive restarts and no fixed key ever ships in the repository.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A stale token (the page was open while the learner signed out and in again) gets a page in the
# site's layout that says so, not Django's bare one.
CSRF_FAILURE_VIEW = "learn.views.csrf_failure"

INSTALLED_APPS = [
    "kubelearn.apps.AdminDiscoveredOnDemandConfig",  # the admin, discovered by the URLconf
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc from our own static files, not a CDN
    "django_celery_beat",
    "axes",
    "csp",
    "kubelearn",  # project-wide management commands (check_beat) and templates
    "catalog",
    "recommender",
    "learn",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # An ETag on every answer that has none, and 304 for a client that holds it: catalog
    # reads had no validator, so a client could not revalidate cheaply (an API walk-through).
    # Outside the others: it hashes the answer as they leave it. Its 412 has no body: the API's
    # gets one (JSON, as every API error) from the middleware just outside it.
    "kubelearn.middleware.ApiPreconditionBodyMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before CommonMiddleware: an API address without its trailing slash is served, not
    # redirected (a client would follow the redirect as a GET, losing a POST's body).
    "kubelearn.middleware.ApiTrailingSlashMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Inside authentication: on the way out it knows the user, a token's too (DRF sets it).
    "kubelearn.middleware.PrivateAnswersMiddleware",
    "kubelearn.middleware.LearnerTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside the CSP middleware: their pages get the policy like every other page.
    "kubelearn.middleware.RejectBadAddressesMiddleware",
    "kubelearn.middleware.SignInThrottleMiddleware",
    "kubelearn.middleware.MethodNotAllowedPageMiddleware",
    "kubelearn.middleware.ProductErrorsWithDebugMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a sign-in for a locked-out account-and-client pair before the
# password is even checked (web sign-in, the admin and the API token endpoint alike).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "kubelearn.signin.AnyCaseUsernameBackend",  # ModelBackend, any case (kubelearn.signin)
]

ROOT_URLCONF = "kubelearn.urls"
WSGI_APPLICATION = "kubelearn.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kubelearn" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: make sure its folder exists, and let concurrent writers
    # (web + in-process tasks) wait for the lock instead of failing at once.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        # WAL lets the web process read while a task writes; IMMEDIATE takes the write lock
        # at BEGIN, so two writers queue instead of failing with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "kubelearn.password_validation.MaximumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Redis: cache, Celery broker and result store -------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "kubelearn"),
            "OPTIONS": {
                # Redis gone must not take the API down: throttling and debouncing degrade
                # to "no cache" (logged) instead of raising, and give up within a second.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                # After one call fails, the others skip Redis for a few seconds: a Redis that
                # hangs cost a request a second per cache call (kubelearn.rediscache).
                "CLIENT_CLASS": "kubelearn.rediscache.BreakerClient",
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "kubelearn.cache"
else:
    # No Redis: the database cache is shared by every process on this machine
    # (web and in-process tasks), which locmem would not be.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "kubelearn_cache",
        }
    }

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
# Without a broker, tasks run in-process so `make run` works on a bare machine.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Never contacted. A host name in the URL keeps kombu from warning "No hostname was supplied".
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = False
# Without a broker, tasks that wait on other servers (feed checks and polls, link checks, mail)
# run in a background thread of the process that sent them, not in the request
# (kubelearn.background). The tests run them in place, where they can see the result.
TASKS_OFF_REQUEST = CELERY_TASK_ALWAYS_EAGER
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message redelivered after a worker died must come back within minutes, not Redis's
# default hour; tasks are idempotent so an early redelivery is harmless.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 600),
    # How often a worker sweeps for messages whose worker died (seconds, times every Nth sweep).
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 6),
    # Fail fast when Redis is gone so a web request never hangs on enqueueing.
    "socket_connect_timeout": 2,
    "socket_timeout": 2,
    "max_retries": 1,
}
# One retry of a publish, not Celery's three: against a Redis that hangs rather than refuses,
# each try waits out the socket timeout, and "Poll now" took 28 s to say the queue was
# unavailable (an operator's walk-through).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # Cheap when nothing is due: one indexed query. Feeds carry their own adaptive schedule.
    "feeds-dispatch": {"task": "catalog.tasks.feeds_dispatch", "schedule": 60.0},
    # Claims a slice of due links sized to cover the catalog every LINK_CHECK_INTERVAL_DAYS.
    "links-dispatch": {"task": "catalog.health.tasks.links_dispatch", "schedule": 60.0},
    # Matches the catalog against the deprecations table; writes only what changed.
    "staleness-scan": {"task": "catalog.health.tasks.staleness_scan", "schedule": 3600.0},
}
CELERY_TIMEZONE = TIME_ZONE

# How many reverse proxies (load balancer, ingress) append to X-Forwarded-For in front of us.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- REST framework --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Any other Authorization header is a 401, not an anonymous request.
        "kubelearn.authentication.RefuseOtherAuthorization",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PARSER_CLASSES": [
        "kubelearn.parsers.SafeJSONParser",
        "kubelearn.parsers.StrictFormParser",
        "kubelearn.parsers.StrictMultiPartParser",
    ],
    # Rate limits key on the client address. X-Forwarded-For is client-controlled: trust it
    # only from this many proxies in front of us (0: use the connection's own address).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_PAGINATION_CLASS": "kubelearn.api.StandardPagination",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "kubelearn.negotiation.FormatNegotiation",
    "DEFAULT_FILTER_BACKENDS": [
        "kubelearn.api.UnknownParametersRefused",
        "django_filters.rest_framework.DjangoFilterBackend",
        "kubelearn.api.BoundedSearchFilter",
        "kubelearn.api.StrictOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "kubelearn.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("THROTTLE_ANON", "120/min"),
        "user": env_str("THROTTLE_USER", "600/min"),
        # Login and registration are the brute-force targets: keep them tight. Not too tight for
        # a class behind one address getting its tokens at once (10/min took a walk-through's
        # 25 students over 3 minutes); django-axes and the failed-usernames pause guard the
        # passwords themselves.
        "auth": env_str("THROTTLE_AUTH", "30/min"),
        # Each request may send an e-mail: a client cannot make us mail-bomb an address.
        # Per client address: a classroom's (5 an hour left a walk-through's class without
        # resets for most of its lab); each typed address has its own, tighter limit.
        "password_reset": env_str("THROTTLE_PASSWORD_RESET", "20/hour"),
        "password_reset_address": env_str("THROTTLE_PASSWORD_RESET_ADDRESS", "3/hour"),
        # Confirmation links per account, sends again included: a learner cannot make us
        # mail-bomb an address by saving it over and over.
        "email_confirm": env_str("THROTTLE_EMAIL_CONFIRM", "5/hour"),
    },
    "EXCEPTION_HANDLER": "kubelearn.api.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "kubelearn API",
    # Markdown in Swagger UI and ReDoc. How to authenticate comes first: a walk-through's
    # developer found only "Token-based authentication with required prefix 'Token'".
    "DESCRIPTION": (
        "A curated catalog of Kubernetes learning resources — from the basics to production "
        "and security — with learning paths and personalised reading queues.\n\n"
        "**Reading the catalog** needs no account. **Your own queue, progress, notes and "
        "focus** (`/api/me/…`) need a token:\n\n"
        "1. `POST /api/auth/register/` with `username` and `password` (and an optional "
        "`email` for password resets, mailed a link to confirm it): the answer holds your "
        "token. Already registered? `POST /api/auth/token/` with the same two fields.\n"
        "2. Send it with every request: `Authorization: Token <your token>` (the word "
        "Token, a space, the token). In this page, **Authorize** takes `Token <your token>`."
    ),
    "VERSION": "1.0.0",
    # Swagger UI and ReDoc served from our own static files: they work offline, load nothing
    # from a CDN, and run without inline script under the CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schemes the API takes; RefuseOtherAuthorization only refuses the others.
    "AUTHENTICATION_WHITELIST": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ResourceKindEnum": "catalog.models.Kind.choices",
        "FeedStateEnum": "catalog.models.FeedState.choices",
        # A resource's stage and difficulty, and a feed's for its new entries.
        "StageEnum": "catalog.models.Stage.choices",
        "DifficultyEnum": "catalog.models.Difficulty.choices",
        "ProgressStateEnum": "recommender.models.ProgressState.choices",
        "ReasonKindEnum": "recommender.engine.records.REASON_KINDS",
    },
    # Ids in addresses are at most 18 digits (kubelearn/converters.py): say so in the schema.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kubelearn.api.document_error_responses",
        "kubelearn.api.blank_allowed_as_any_of",
    ],
}

# --- Learner pages and sign-in lockout ------------------------------------------------------
LOGIN_URL = "learn:signin"
LOGIN_REDIRECT_URL = "learn:home"
LOGOUT_REDIRECT_URL = "learn:home"
# Usernames that failed to sign in from one client address, each counted once; beyond it, every
# sign-in form and the API's token endpoint answer 429 (kubelearn.signin.SignInFailuresThrottle).
SIGNIN_FAILURES_RATE = env_str("THROTTLE_SIGNIN_FAILURES", "40/hour")
# Lock out one account from one client after this many failures in a row; a curator lifts a
# lockout with `manage.py axes_reset` (or axes_reset_username NAME).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "kubelearn.signin.axes_username"  # lower-cased: one lockout per name
AXES_RESET_ON_SUCCESS = True
# The hour of a lockout counts from when it began: each attempt during it started the hour
# again, so a student's script retrying a locked account kept it locked all day (a classroom
# walk-through).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "learn/locked_out.html"
AXES_VERBOSE = False

# --- E-mail (password resets) ----------------------------------------------------------------
# An SMTP relay when EMAIL_HOST is set; in local development (DEBUG) messages are printed to the
# console instead. With neither (SMTP without a host), there is no way to send mail and the
# password-reset page says so instead of pretending to send (learn/passwords.py).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
# Mail goes out from a worker task, never from a request, and this bounds how long one waits.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kubelearn <noreply@localhost>")
# Where learners write to a person (a curator resets a password without an e-mail address on
# the account); the reset page names it. Empty: the page can only say "ask a curator".
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST or not DEBUG
    else "django.core.mail.backends.console.EmailBackend",
)
# A reset link works once, for this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_HOURS", 2) * 3600
# A link confirming a new e-mail address works for this long (learn/emails.py).
EMAIL_CONFIRM_TIMEOUT = env_int("EMAIL_CONFIRM_TIMEOUT_DAYS", 3) * 24 * 3600

# --- Security (production defaults whenever DEBUG is off) -----------------------------------
# Behind a trusted proxy only: without one, any client could make a request look like HTTPS
# (a penetration test's X-Forwarded-Proto put https:// in a mail's link from a plain-HTTP server).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# No inline script anywhere (pages, admin, Swagger UI from drf-spectacular-sidecar); the only
# relaxation is inline styles for Swagger UI, made on that view alone (kubelearn/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Feed fetching (untrusted input) ---------------------------------------------------------
# Private networks are refused by default; only local development and tests turn this on.
FEEDS_ALLOW_PRIVATE_NETWORKS = env_bool("FEEDS_ALLOW_PRIVATE_NETWORKS", default=False)
# Or allow just some networks (CIDRs), e.g. a local test server: "127.0.0.1/32".
FEEDS_ALLOWED_NETWORKS = env_list("FEEDS_ALLOWED_NETWORKS", [])
FEEDS_MAX_BYTES = env_int("FEEDS_MAX_BYTES", 10 * 1024 * 1024)
FEEDS_CONNECT_TIMEOUT = float(env_int("FEEDS_CONNECT_TIMEOUT", 5))
FEEDS_READ_TIMEOUT = float(env_int("FEEDS_READ_TIMEOUT", 10))
FEEDS_TOTAL_DEADLINE = float(env_int("FEEDS_TOTAL_DEADLINE", 30))
# Feeds in flight per process (threads overlapping network waits), for worker batches and
# `poll_feeds`; and feeds per worker task, so a worker's message and commit overheads are
# shared and its threads have something to overlap.
FEEDS_POLL_CONCURRENCY = env_int("FEEDS_POLL_CONCURRENCY", 4)
# 16 rather than 8: half the tasks, transactions and first-fetch waits per round (bench/feeds.py:
# Celery's first poll of 300 local feeds 2.96 -> 2.65 s), still within a batch's time limit.
FEEDS_POLL_BATCH = env_int("FEEDS_POLL_BATCH", 16)

# --- Catalog health: link checks (same fetch rules as feeds) ------------------------------------
# Every approved resource's address is checked at least this often, spread over the days.
LINK_CHECK_INTERVAL_DAYS = env_int("LINK_CHECK_INTERVAL_DAYS", 7)
# Seconds between two requests to one host (and never two at once), whoever sends them.
LINK_CHECK_HOST_INTERVAL = env_int("LINK_CHECK_HOST_INTERVAL", 5)
# Hosts checked side by side per process.
LINK_CHECK_CONCURRENCY = env_int("LINK_CHECK_CONCURRENCY", 4)
# Check history rows kept per resource.
LINK_CHECK_HISTORY = env_int("LINK_CHECK_HISTORY", 20)

# --- Catalog reads --------------------------------------------------------------------------
# How long a public page of /api/resources/ stays cached. Pages are keyed by the catalog's
# read version, which every catalog write moves, so this only bounds the memory of versions
# nobody asks for any more; 0 turns the cache off.
CATALOG_PAGE_CACHE_SECONDS = env_int("CATALOG_PAGE_CACHE_SECONDS", 300)

# --- Recommender ----------------------------------------------------------------------------
RECOMMENDER_PATH_SLUG = env_str("RECOMMENDER_PATH_SLUG", "kubernetes-from-zero-to-secure")
# Where fitted models are materialised from the database and memory-mapped: one directory per
# model, shared read-only by every process on the machine. Must be writable (in Kubernetes an
# emptyDir: the pods' root filesystem is read-only); a fresh one is filled on first use.
MODEL_DIR = Path(env_str("MODEL_DIR", str(VAR_DIR / "model")))
# How long a learner's computed `next` / queue stays cached; any change to their progress or
# profile, a new model or a catalog change invalidates it sooner. 0: off.
RECOMMENDER_RESPONSE_CACHE_SECONDS = env_int("RECOMMENDER_RESPONSE_CACHE_SECONDS", 300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Redis gone: each ignored cache error once a minute, not a traceback per cache call.
    "filters": {"once_a_minute": {"()": "kubelearn.logs.OncePerInterval", "seconds": 60}},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "kubelearn.cache": {"filters": ["once_a_minute"]},
    },
}
