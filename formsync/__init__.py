"""What every FormSync role shares and no role owns: the wire contract (``formsync.wire``) and the
hub client (``formsync.hub_client``), tokens, reconnect delays, waking a thread's loop, the
synchronisation policy, and the host/process health every process reports in its heartbeats.
Camera machines install only this and ``clients``; nothing here imports a role."""
