"""Billers' validation rules (business-rules): variables, actions, rule storage, runs and eligibility."""
