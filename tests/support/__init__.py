"""Helpers the tests share (feeds and pages, configurations, free ports); not tests."""
