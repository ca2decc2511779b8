"""Training the claim detector: labels (pointers into the pool), the split by article, the
labelling tool, and `make train`. Not imported by the service at run time."""
