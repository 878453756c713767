"""``python -m suite.report``: one report, with plots, of everything rnnbench measured."""

import sys

from suite.report.command import main

sys.exit(main())
