"""The running service: settings, the composition root (`app`), the service functions, the
CLI and the daemon with what they need (locks, schedules, status, progress, metrics, logs).

The top of the import graph: nothing else in claimwatch imports it. Kept empty, so that the
entry module (`__main__`) stays cheap to import.
"""
