"""HTTP details every response shares."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

#: headers on every response besides the Content-Security-Policy (set by the app's ``after_request`` hook)
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)


def s3_image_sources(config: Mapping) -> list[str]:
    """Where the browser fetches photos from when they live in S3: a photo's URL redirects to a
    presigned URL of the bucket, which boto3 makes path style on a configured endpoint and virtual-hosted
    style on AWS (path style for a bucket with a dot in its name)."""
    if (config.get("STORAGE_BACKEND") or "local").strip().lower() != "s3":
        return []
    bucket = (config.get("S3_BUCKET") or "").strip()
    endpoint = (config.get("S3_ENDPOINT_URL") or "").strip()
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        return [f"{parts.scheme}://{parts.netloc}"]
    region = (config.get("S3_REGION") or "").strip()
    hosts = [f"{bucket}.s3.amazonaws.com"] if bucket else []
    if bucket and region:
        hosts.append(f"{bucket}.s3.{region}.amazonaws.com")
    if "." in bucket:  # a dotted bucket cannot be a host name of a TLS certificate: path style
        hosts += ["s3.amazonaws.com"] + ([f"s3.{region}.amazonaws.com"] if region else [])
    return [f"https://{host}" for host in hosts]


def content_security_policy(config: Mapping) -> str:
    """The policy of every response: everything from the app's own origin, nothing inline (no
    script, no style attribute or element, no event handler), no plugins, no framing; images also
    from ``data:`` (Bootstrap's icons, the report charts), ``blob:`` (a photo's preview before its
    upload) and the photo store when it is S3."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *s3_image_sources(config)],
        "font-src": ["'self'"],
        # the service worker keeps thumbnails for the form offline: fetching one follows its
        # redirect to the photo store when that is S3
        "connect-src": ["'self'", *s3_image_sources(config)],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def response_headers(config: Mapping) -> tuple[tuple[str, str], ...]:
    """Every header the ``after_request`` hook sets, built once when the app starts."""
    return (*SECURITY_HEADERS, ("Content-Security-Policy", content_security_policy(config)))
