"""Scheduled and background work: job definitions, the single scheduler process, job-run records, export runs.

Jobs are the top layer: their bodies (tasks.py) call the rules, submissions, payments and exports services
directly. APScheduler stores only `billing.jobs.runs:scheduled_run` and a job id; the id names a definition in
definitions.py, which holds the real callable.
"""
