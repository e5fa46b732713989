"""The demo practice `flask seed-demo` builds (also the data behind `make bench`)."""
