"""The kernel's one exception root.

The kernel sits below every other package, so its errors must be catchable without
knowing which kernel module raised them; callers above translate them into their own.
"""

from __future__ import annotations


class KernelError(Exception):
    """Base of every error the kernel raises."""
