"""Joint patrol schedules on the road graph: randomised routes per unit and shift for two forces."""
