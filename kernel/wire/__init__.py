"""The names that travel on each wire, one module per wire.

Both ends of a wire import their names from here, never define their own, so the node and
the coordinator (which never import each other) cannot drift apart.
"""
