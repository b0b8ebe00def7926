"""The pieces of `make simulate` (scripts/simulate.py): scenarios and results, the simulated
reviewers, the seeded catalogs each run copies, and the report lines."""
