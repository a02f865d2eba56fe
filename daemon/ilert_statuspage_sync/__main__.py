"""Allow ``python -m ilert_statuspage_sync``."""

import sys

from ilert_statuspage_sync.commands.cli import main

sys.exit(main())
