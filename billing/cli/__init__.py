"""The `flask` commands, one module per group. Like the admin views they are the top layer: each command is a
thin shell that parses its options, calls one operation inside one `unit_of_work()`, and prints the result
(`--json` for scripts). `app.py` registers every group.
"""
