import sys

from suite.cli import main

sys.exit(main(prog="python -m suite"))
