"""Therapy sessions: what happened, when, by whom; the source of every claim line."""
