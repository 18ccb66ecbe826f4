"""Use cases of the central system: what handlers and the REST API call. Adapters call in; nothing here does I/O
other than through the ports it is given."""
