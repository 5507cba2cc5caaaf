import sys

from .cli import main

# Guarded: multiprocessing may import the main module in helper processes.
if __name__ == "__main__":
    sys.exit(main())
