"""A device (a CLI) in Python: the RFC 8628 device flow with Authlib's OAuth2Session, driven by
tests/e2e/device.test.mjs. Prints the device authorization response as one JSON line, polls the
token endpoint until the person has decided, then prints the outcome as a last JSON line.

Environment: EDGE_ID_ISSUER, CLIENT_ID, CLIENT_SECRET (empty: a public client).
"""

import json
import os
import socket
import sys
import time

from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

# Tenants live on <slug>.localhost, which glibc does not resolve here: pin it to loopback.
_getaddrinfo = socket.getaddrinfo


def _loopback(host, *args, **kwargs):
    if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def say(value):
    print(json.dumps(value), flush=True)


def main():
    issuer = os.environ["EDGE_ID_ISSUER"]
    secret = os.environ.get("CLIENT_SECRET") or None
    session = OAuth2Session(
        os.environ["CLIENT_ID"],
        secret,
        scope="openid email profile",
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
    )
    # Requests made before there is a token say so (withhold_token).
    metadata = session.get(
        f"{issuer}/.well-known/openid-configuration", withhold_token=True
    ).json()
    assert DEVICE_GRANT in metadata["grant_types_supported"], metadata
    auth = session.client_auth(session.token_endpoint_auth_method)
    started = session.post(
        metadata["device_authorization_endpoint"],
        data={"client_id": session.client_id, "scope": session.scope},
        auth=auth,
        withhold_token=True,
    )
    started.raise_for_status()
    device = started.json()
    say(device)
    interval = device["interval"]
    seen = []
    deadline = time.monotonic() + device["expires_in"]
    while time.monotonic() < deadline:
        time.sleep(interval)
        try:
            token = session.fetch_token(
                metadata["token_endpoint"],
                grant_type=DEVICE_GRANT,
                device_code=device["device_code"],
            )
        except OAuthError as e:
            seen.append(e.error)
            if e.error == "authorization_pending":
                continue
            if e.error == "slow_down":
                interval += 5
                continue
            say({"error": e.error, "seen": seen})
            return
        say({"token": dict(token), "seen": seen})
        return
    say({"error": "timeout", "seen": seen})


if __name__ == "__main__":
    sys.exit(main())
