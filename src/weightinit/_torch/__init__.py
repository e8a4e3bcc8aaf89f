"""Private implementation of :mod:`weightinit.torch` (imports torch)."""
