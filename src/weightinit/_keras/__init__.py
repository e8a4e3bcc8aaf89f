"""Implementation of :mod:`weightinit.keras` (registration with Keras, and the switch).

Only ``_register`` and ``_switch`` import Keras; ``_seeds`` is plain Python.
"""
