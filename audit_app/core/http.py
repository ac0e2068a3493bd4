"""HTTP details every response shares."""

#: headers on every response (set by the app's ``after_request`` hook and by the autosave's lane)
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)
