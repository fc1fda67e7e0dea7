"""FormSync camera client entry point: ``python webcam_client.py --camera front=0``."""

import sys

from clients.cli import main

if __name__ == "__main__":
    sys.exit(main())
