"""The organisation: company (the billing entity) -> practice -> location."""
