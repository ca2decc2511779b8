"""Mail: a rendered digest as an e-mail message (pure), the SMTP edge that sends it and
reports the outcome as a value, and delivery from the outbox (sent, retried later, failed).

Imports `digest.compose`; never `digest.runtime`.
"""
