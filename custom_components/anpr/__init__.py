"""ANPR: licence-plate recognition for Home Assistant."""
