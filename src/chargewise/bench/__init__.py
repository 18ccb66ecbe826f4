"""Adapters that run chargewise's engines inside published benchmarks (acnportal's ACN-Sim)."""
