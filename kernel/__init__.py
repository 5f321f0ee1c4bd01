"""The shared kernel: what every party and both libraries stand on.

It holds only what has no opinion about carbon, privacy or trust: where a party keeps its
state (settings), how it opens and migrates a database (db), the names that travel on each
wire (wire), and the command-line kit every command is built with. It imports nothing of
ours, so ``open_models``, ``governance``, ``trust_node`` and ``coordinator`` can all rely on
it without a cycle (the ``layers`` contract in ``pyproject.toml``).
"""
