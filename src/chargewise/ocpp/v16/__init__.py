"""OCPP 1.6J specifics."""
