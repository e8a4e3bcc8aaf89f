"""``python -m weightinit._cli``: the same as the ``weightinit`` console script."""

import sys

from ._app import main

if __name__ == "__main__":
    sys.exit(main())
