"""claimwatch digest: claims, digests, delivery, and the composition root, CLI and daemon.

Imports `ingest`; `ingest` never imports this package.
"""
