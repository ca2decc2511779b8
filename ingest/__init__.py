"""claimwatch ingest: from configured feeds to a deduplicated, seed-format corpus.

This package owns everything up to the stored document. It never imports `digest`.
"""
