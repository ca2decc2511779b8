"""The shipped detector weights (detector.json), written by `make train`."""
