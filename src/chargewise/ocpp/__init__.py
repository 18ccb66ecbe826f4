"""Sans-I/O OCPP-J core: framing, correlation, validation and leniency. Nothing in here awaits or reads the clock."""
