"""``python -m docval_client``: the same as ``docval-client``."""

import sys

from .cli import main

sys.exit(main())
