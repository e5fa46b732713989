"""Scheduled and background work: job definitions, the single scheduler process, job-run records, export runs.

Jobs name their bodies by import reference ("rules.runs:run_rules_now"), the way APScheduler stores them, so
billing imports no code from rules/ or exports/: the scheduler process is where the packages meet.
"""
