"""People: the staff who log in, the rendering providers, and the clients they treat."""
