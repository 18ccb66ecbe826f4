"""Fleet operations as pure functions: upload URL tokens and their retention, local authorization list plans,
reservation rules. Time and state come in as data; nothing here does I/O (services and adapters do)."""
