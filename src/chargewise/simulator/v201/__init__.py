"""OCPP 2.0.1 dialect of the simulated firmware."""
