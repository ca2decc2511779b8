"""Claims: seed-format text in, `Claim` values out (sentences, topics, cues, the finder),
plus their storage and grouping across documents.

Only `store` touches the database; everything else is pure.
"""
