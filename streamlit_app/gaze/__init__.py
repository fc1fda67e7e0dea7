"""Gaze and attention on the dashboard: calibration requests, tolerant readers of a result's ``gaze`` field,
and drawing helpers.
"""
