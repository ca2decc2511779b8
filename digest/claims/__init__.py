"""Claims: seed-format text in, `Claim` values out (sentences, topics, cues, the finder),
plus their storage and grouping across documents.

Only `store` (and `schema`, its tables) touches the database; everything else is pure.
Imports no other digest subpackage.
"""
