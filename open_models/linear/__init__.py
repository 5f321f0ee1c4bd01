"""The sufficient-statistics open model (issue 16): a model linear in a fixed basis around a
physical prior, fitted in one shot from DP-noised, encrypted, summed ``X^T X`` and ``X^T r``."""
