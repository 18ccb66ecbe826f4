"""Version-neutral model of chargers, connectors, transactions and tokens, and the ports that store them."""
