"""The reference peer: Django + DRF + simplejwt configured as the simplejwt docs recommend, with
the same token settings as the Rust server's settings.toml (HS256, rotation with blacklisting,
bcrypt_sha256 at cost 12).

It is deliberately lean, to be a strong baseline: only the apps and middleware a JWT API needs
(no admin, sessions, CSRF or messages), DEBUG off, persistent database connections. bench/run
sets the environment: SECRET_KEY, PEER_DATABASE (an SQLite file path or a postgres:// URL),
PEER_BCRYPT_ROUNDS.
"""
import os
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from django.contrib.auth.hashers import BCryptSHA256PasswordHasher

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "peer.urls"
WSGI_APPLICATION = "peer.wsgi.application"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
]

# The middleware whose headers the Rust server reproduces (nosniff, X-Frame-Options, ...).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


def _database(value):
    if value.startswith(("postgres://", "postgresql://")):
        url = urlsplit(value)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(url.path.lstrip("/")),
            "USER": unquote(url.username or ""),
            "PASSWORD": unquote(url.password or ""),
            "HOST": url.hostname or "",
            "PORT": str(url.port or ""),
            "CONN_MAX_AGE": None,
        }
    # The same pragmas as the Rust server's SQLite connections (WAL, busy timeout, synchronous
    # FULL as it ships), and IMMEDIATE transactions so that concurrent writers wait instead of
    # failing.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": value,
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            "timeout": 10,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
        },
    }


DATABASES = {"default": _database(os.environ["PEER_DATABASE"])}


class BenchBCryptSHA256PasswordHasher(BCryptSHA256PasswordHasher):
    """Django's bcrypt_sha256 at the cost the Rust server uses (PASSWORDS.BCRYPT_ROUNDS)."""

    rounds = int(os.environ.get("PEER_BCRYPT_ROUNDS", "12"))


PASSWORD_HASHERS = ["peer.settings.BenchBCryptSHA256PasswordHasher"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

SIMPLE_JWT = {
    # An hour, as for the Rust server in the benchmark: tokens must outlive the run.
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=1),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
