"""A minimal Django site that signs users in through Edge ID with mozilla-django-oidc (the
library Linkding uses). Started by tests/e2e/django.test.mjs on loopback:

    python app.py <port>

Configuration comes from the environment (EDGE_ID_ISSUER, OIDC_RP_CLIENT_ID,
OIDC_RP_CLIENT_SECRET, DJANGO_DB).
"""
import os
import socket
import sys

# Tenants live on <slug>.localhost, which glibc does not resolve here: pin *.localhost to
# loopback, as the Node tests do.
_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_getaddrinfo

import django  # noqa: E402
from django.conf import settings  # noqa: E402

ISSUER = os.environ["EDGE_ID_ISSUER"]
settings.configure(
    DEBUG=False,
    SECRET_KEY=os.urandom(32).hex(),
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "mozilla_django_oidc",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DJANGO_DB"]}},
    AUTHENTICATION_BACKENDS=["mozilla_django_oidc.auth.OIDCAuthenticationBackend"],
    OIDC_RP_CLIENT_ID=os.environ["OIDC_RP_CLIENT_ID"],
    OIDC_RP_CLIENT_SECRET=os.environ["OIDC_RP_CLIENT_SECRET"],
    OIDC_RP_SIGN_ALGO="RS256",
    OIDC_RP_SCOPES="openid email profile",
    OIDC_USE_PKCE=True,
    OIDC_OP_AUTHORIZATION_ENDPOINT=f"{ISSUER}/authorize",
    OIDC_OP_TOKEN_ENDPOINT=f"{ISSUER}/api/oidc/token",
    OIDC_OP_USER_ENDPOINT=f"{ISSUER}/api/oidc/userinfo",
    OIDC_OP_JWKS_ENDPOINT=f"{ISSUER}/.well-known/jwks.json",
    LOGIN_REDIRECT_URL="/whoami",
    LOGIN_REDIRECT_URL_FAILURE="/failed",
    USE_TZ=True,
)
django.setup()

from django.http import JsonResponse  # noqa: E402
from django.urls import include, path  # noqa: E402


def whoami(request):
    user = request.user
    return JsonResponse(
        {
            "authenticated": user.is_authenticated,
            "email": getattr(user, "email", None),
            "username": getattr(user, "username", None),
        }
    )


def failed(request):
    return JsonResponse({"authenticated": False, "failed": True}, status=401)


urlpatterns = [
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("whoami", whoami),
    path("failed", failed),
]

if __name__ == "__main__":
    from django.core.management import call_command, execute_from_command_line

    call_command("migrate", verbosity=0)
    port = sys.argv[1]
    execute_from_command_line([sys.argv[0], "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"])
