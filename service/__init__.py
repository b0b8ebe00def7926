"""Retail Pulse: store-visit image jobs, QA data cleaning and vector similarity."""

__version__ = "0.1.0"
