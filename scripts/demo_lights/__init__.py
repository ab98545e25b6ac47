"""Home Assistant's demo lights, on their own, for the scripts/develop demo."""
