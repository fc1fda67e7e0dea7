"""Monitoring shared by every FormSync process: psutil collectors of the host and the process,
the heartbeat sender, and the alert engine the hub evaluates.

- ``host``: CPU, memory, disk, network, load, temperature of the machine (psutil, cached).
- ``process``: CPU and resident memory of one process (psutil, cached).
- ``heartbeat``: posts a process's heartbeat to the hub every few seconds (aiohttp).
- ``alerts``: rules with levels, hold times and hysteresis, evaluated on metric samples.
- ``alert_rules``: the default rules and their overrides (hub settings or a YAML file).
"""
