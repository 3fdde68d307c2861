"""``python -m implicit_bias.cli``: the same as the ``implicit-bias`` console script."""

import sys

from . import main

sys.exit(main())
