"""PrefLab's one settings file. Every knob comes from the environment.

With DATABASE_URL / REDIS_URL unset, PrefLab runs on its embedded PostgreSQL and Redis under
PREFLAB_HOME (see webapp/embedded.py). Set them to use real servers instead.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import quote

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from webapp import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    """The boolean in the variable ``name``, any case; a typo stops PrefLab, never reads false."""
    value = os.environ.get(name)
    if value is None:
        return default
    true, false = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
    word = value.strip().lower()
    if word and word not in true + false:  # set but empty is false, as it always was
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a boolean: use one of {', '.join(true + false)} (any case)"
        )
    return word in true


def envint(name: str, default: int) -> int:
    """The whole number in the variable ``name``; anything else stops PrefLab."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a whole number (for example {name}={default})"
        ) from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def kept_secret_key(home: Path) -> str:
    """A key of our own, kept under PREFLAB_HOME, so sessions survive restarts without setup."""
    key_file = home / "secret_key"
    if not key_file.exists():
        import secrets

        home.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


PREFLAB_HOME = Path(os.environ.get("PREFLAB_HOME", BASE_DIR / "var")).resolve()
DEBUG = envbool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "") or kept_secret_key(PREFLAB_HOME)

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "webapp.projects",
    "webapp.pairs",
    "webapp.labelling",
    "webapp.imports",
    "webapp.jobs",
    "webapp.ops",
    "webapp.registry",
    "webapp.scoring",
    "webapp.flags",
    "webapp.checks",
    "webapp.judges",
    "webapp.benchmarks",
    "webapp.review",
    "webapp.training",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "webapp.exports",
    "webapp.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last, as django-axes asks: it turns a locked-out login into its 429 response
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "webapp.urls"
ASGI_APPLICATION = "webapp.asgi.application"

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
            ],
        },
    },
]

# --- PostgreSQL -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
EMBEDDED_DATABASE = not DATABASE_URL
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            # Starts the embedded server on first connection; see webapp/dbbackend.
            "ENGINE": "webapp.dbbackend",
            "NAME": "preflab",
            "USER": "postgres",
            "HOST": str(embedded.pg_data_dir(PREFLAB_HOME)),
            "CONN_MAX_AGE": 60,
        }
    }
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Under ASGI each request runs its sync code in a thread of its own, so a connection kept per
# thread (CONN_MAX_AGE) is never reused and busy servers run out of connections; a psycopg
# pool hands connections from request to request instead. Off by default for now.
if envbool("DATABASE_POOL", False):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": envint("DATABASE_POOL_SIZE", 8),
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and Channels layer --------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
EMBEDDED_REDIS = not REDIS_URL
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CHANNEL_REDIS_HOST: str = REDIS_URL
else:
    _sock = embedded.redis_socket(PREFLAB_HOME)
    CELERY_BROKER_URL = f"redis+socket://{quote(str(_sock))}"
    CHANNEL_REDIS_HOST = f"unix://{_sock}"

# Several PrefLab installs (or test runs) can share one Redis under different prefixes.
REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [CHANNEL_REDIS_HOST], "prefix": f"{REDIS_KEY_PREFIX}preflab:ch:"},
    }
}

# The longest job PrefLab runs (a fine-tune on a big project) must finish inside the broker's
# visibility timeout, or Redis hands the same task to a second worker.
JOB_TIME_LIMIT_S = envint("JOB_TIME_LIMIT_S", 12 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": JOB_TIME_LIMIT_S + 3600,
    "global_keyprefix": REDIS_KEY_PREFIX,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = JOB_TIME_LIMIT_S
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Files ------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = PREFLAB_HOME / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root
# plotly.js comes from the plotly package itself, so charts need no CDN and no copy in git.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("plotly", Path(find_spec("plotly").origin or "").parent / "package_data"),  # type: ignore[union-attr]
]
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = PREFLAB_HOME / "files"
UPLOAD_DIR = MEDIA_ROOT / "uploads"
# Database connections that build an export's rows at once (each runs on one server core).
EXPORT_STREAMS = envint("EXPORT_STREAMS", min(4, os.cpu_count() or 1))
EMBEDDING_CACHE_DIR = Path(os.environ.get("EMBEDDING_CACHE_DIR", PREFLAB_HOME / "embeddings"))

# --- Scoring across workers (webapp/scoring/shards.py) ----------------------------------------
# Texts per encoding shard: a few thousand keep a shard's loss to a dead worker small and the
# per-shard start (loading the encoder) a small share of its work.
SCORING_SHARD_TEXTS = envint("SCORING_SHARD_TEXTS", 2000)
# A running shard whose worker has not beaten for this long is queued again (the jobs' rule).
SCORING_SHARD_STALE_S = envint("SCORING_SHARD_STALE_S", 300)
# Where shards go: frozen encoders up to SCORING_CPU_ENCODER_MAX_MB of weights to the CPU
# queue; larger ones, fine-tuned ones and reward models to the GPU queue.
SCORING_CPU_QUEUE = os.environ.get("SCORING_CPU_QUEUE", "default")
SCORING_GPU_QUEUE = os.environ.get("SCORING_GPU_QUEUE", "gpu")
SCORING_CPU_ENCODER_MAX_MB = envint("SCORING_CPU_ENCODER_MAX_MB", 400)
# Worker processes sharing this machine's cores: each sets torch's threads to its share.
WORKERS_PER_HOST = envint("WORKERS_PER_HOST", 1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
IMPORT_MAX_UPLOAD_BYTES = envint("IMPORT_MAX_UPLOAD_BYTES", 2 * 1024**3)

# --- Auth and security ------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:list"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Django's own database sessions, with the lookup every request makes written in prepared SQL
# (webapp/ops/sessions.py). Sessions begun under Django's backend before it was replaced log in
# again once.
SESSION_ENGINE = "webapp.ops.sessions"
# An https:// SITE_URL is a production install: secure cookies, HTTPS only, HSTS. Behind a
# proxy that ends TLS, the proxy must set X-Forwarded-Proto (see the README's Operations).
HTTPS = SITE_URL.startswith("https://")
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG and HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# The header only makes the site eligible; joining the preload list is a separate request.
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", HTTPS)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Login throttling (django-axes, failures kept in PostgreSQL): after LOGIN_FAILURE_LIMIT
# failed passwords for one username from one address, that pair is locked out for
# LOGIN_COOLOFF_MINUTES, on the login page, the admin and the API's token endpoint alike.
AUTHENTICATION_BACKENDS = [
    "webapp.ops.auth.LoginThrottleBackend",
    # Django's ModelBackend, with the per-request user lookup in prepared SQL
    "webapp.ops.auth.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = envint("LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"preflab": {"level": os.environ.get("LOG_LEVEL", "INFO")}},
}

# --- REST API (webapp/api) ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "webapp.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PrefLab API",
    "DESCRIPTION": "Projects, pairs, imports, labelling, jobs and dataset exports. "
    "Authenticate with a token: `Authorization: Token <key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # choice sets that several fields share get one name each in the schema
    "ENUM_NAME_OVERRIDES": {
        "JudgeSourceEnum": "webapp.judges.models.Judge.Source",
        "BenchmarkResultKindEnum": "webapp.benchmarks.models.Result.Kind",
        "ModelKindEnum": "webapp.registry.models.ModelKind",
    },
}
