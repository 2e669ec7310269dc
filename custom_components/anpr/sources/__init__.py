"""Plate sources other than watched cameras: entities, Frigate over MQTT, and an action.

A source reports plate text (no image to read, no per-character evidence); its reads go
through the same visits, events, presence, history and gate as a watched camera's.
"""
