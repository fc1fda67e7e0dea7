"""FormSync hub entry point: ``python fastapi_server.py --host 127.0.0.1 --port 8000``."""

import sys

from server.cli import main

if __name__ == "__main__":
    sys.exit(main())
