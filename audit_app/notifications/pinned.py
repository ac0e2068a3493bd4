"""A webhook POST to an address resolved once (against DNS rebinding).

The endpoint's name is resolved and every address checked (``operations.resolve_url``); the
connection then goes to one of exactly those addresses, never through a second lookup that a
hostile name server could answer differently. The request still names the host: the ``Host``
header, TLS SNI and the certificate check are all for the endpoint's hostname, so HTTPS is as
strict as with an ordinary client (certifi's authorities, or ``WEBHOOK_CA_FILE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError


@dataclass
class Answer:
    status: int
    text: str
    address: str  # the IP the request went to


def _ca_file(ca_file: str | None) -> str | None:
    if ca_file:
        return ca_file
    try:
        import certifi
    except ImportError:  # pragma: no cover - requests brings certifi
        return None
    return certifi.where()


def post(url: str, addresses: list[str], body: bytes, headers: dict[str, str], *,
         timeout: tuple[float, float], ca_file: str | None = None) -> Answer:
    """POST ``body`` to ``url`` over a connection to one of ``addresses`` (tried in order while
    the connection cannot be made); no redirects, no retries of its own."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    hostname = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.netloc.rsplit("@", 1)[-1]  # the name (and port) as written; no user info
    send_headers = {**headers, "Host": host_header}
    last_error: Exception | None = None
    for address in addresses:
        options = {"timeout": urllib3.Timeout(connect=timeout[0], read=timeout[1]), "retries": False, "maxsize": 1}
        if https:
            pool = urllib3.HTTPSConnectionPool(
                address, port, cert_reqs="CERT_REQUIRED", ca_certs=_ca_file(ca_file),
                server_hostname=hostname, assert_hostname=hostname, **options)
        else:
            pool = urllib3.HTTPConnectionPool(address, port, **options)
        try:
            with pool:
                response = pool.urlopen("POST", target, body=body, headers=send_headers, redirect=False,
                                        retries=False, assert_same_host=False, preload_content=True)
        except (NewConnectionError, ConnectTimeoutError) as exc:  # this address is down: the next one
            last_error = exc
            continue
        return Answer(response.status, response.data[:2000].decode("utf-8", "replace"), address)
    raise last_error or ConnectionError("no address to connect to")
