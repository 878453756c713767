import sys

from suite.commands import main

sys.exit(main(prog="python -m suite"))
