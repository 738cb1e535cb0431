"""Native handlers: the Paymenter admin API re-implemented in Python on the legacy database."""
