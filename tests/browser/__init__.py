"""Tests of the dashboard card in a real browser."""
