"""OCPP 1.6J handlers."""
