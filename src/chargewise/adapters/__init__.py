"""Adapters: sockets, HTTP, databases, brokers and the clock. They call services; services never import them."""
