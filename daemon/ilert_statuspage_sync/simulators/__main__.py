"""``python -m ilert_statuspage_sync.simulators``: serve both simulators until stopped.

They hold the demo's accounts (alert sources, pages, components), so ``discover``,
``discover --write`` and then ``sync`` can be tried against them from a shell.
The first lines printed are ``export`` lines for the URLs and the demo keys
(public demo values, not secrets); Ctrl-C or SIGTERM stops both.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from ilert_statuspage_sync.simulators.seed import ILERT_KEY, STATUSPAGE_KEY, seed_accounts


def main() -> int:
    """Serve until SIGINT or SIGTERM; 0 on a clean stop."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with (
        IlertSimulator(api_key=ILERT_KEY) as ilert,
        StatuspageSimulator(api_key=STATUSPAGE_KEY, page_ids=()) as statuspage,
    ):
        seed_accounts(ilert, statuspage)
        sys.stdout.write(
            f"export ILERT_URL={ilert.url} STATUSPAGE_URL={statuspage.url}\n"
            f"export DEMO_ILERT_KEY={ILERT_KEY} DEMO_STATUSPAGE_KEY={STATUSPAGE_KEY}\n"
            "# simulators running with the demo accounts; Ctrl-C stops them\n"
        )
        sys.stdout.flush()
        while not stop.wait(1.0):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
