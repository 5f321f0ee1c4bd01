"""``gcdt-demo``: the whole trust on one machine, every party its own process.

It imports nothing of the node or the coordinator: it drives the same commands an
operator runs (``gcdt-coordinator``, ``gcdt-node``, ``gcdt-audit``), so the demo cannot
take a shortcut a real deployment could not.
"""
