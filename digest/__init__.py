"""claimwatch digest: everything after the stored document, in four layers, each importing
only those before it:

    claims    text to `Claim` values, their storage and grouping
    compose   claims to a digest: selected, rendered, recorded in the outbox, archived
    mail      the digest as e-mail: message, SMTP, delivery from the outbox
    runtime   settings, the composition root (`App`), the service layer, CLI and daemon

Imports `ingest`; `ingest` never imports this package (tests/test_architecture.py).
"""
