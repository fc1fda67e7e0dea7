"""The Monitor page and the alert banner: the monitor poller, its bounded history, tolerant readers of the
hub's heartbeats and alerts, and pure rendering helpers.
"""
