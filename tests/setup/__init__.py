"""Tests of the development environment that `script/setup` builds."""
