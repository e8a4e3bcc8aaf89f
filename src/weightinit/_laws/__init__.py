"""The distribution each initializer draws from, and the statistics that test samples against it.

Shared by the command line (``show``, ``compare``, ``advise``) and by ``inspect`` (checking stored
weights, ranking candidate initializers); it imports neither.
"""
