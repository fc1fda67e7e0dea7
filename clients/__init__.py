"""FormSync camera client: capture, stamp, encode and upload frames to the hub."""
