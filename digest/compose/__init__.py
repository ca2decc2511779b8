"""Composing digests: stored claims in, a `Digest` selected, rendered (HTML, text, subject),
recorded in the outbox with its pending deliveries, and published in the HTML archive.

Imports `digest.claims`; never `digest.mail` or `digest.runtime`.
"""
