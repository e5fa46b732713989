"""Coverage: payers, insurance policies, service codes, fee schedules and authorizations."""
