"""chargewise: an OCPP 1.6J / 2.0.1 central system that keeps smart EV chargers smart."""

__version__ = "0.1.0"
