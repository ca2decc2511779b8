"""Imported once by the worker processes' fork server, never by the main process: trafilatura
and everything it imports, so each worker (a fork of that server) starts with them loaded and
shares their memory, instead of importing them itself. Its import is its whole purpose."""

from ingest.extract import load_trafilatura

load_trafilatura()
