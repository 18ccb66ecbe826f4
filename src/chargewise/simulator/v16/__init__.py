"""OCPP 1.6J dialect of the simulated firmware."""
