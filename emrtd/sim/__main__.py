"""``python -m emrtd.sim``: the same as ``docval-sim``."""

import sys

from .vpcd_card import main

sys.exit(main())
