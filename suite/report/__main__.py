import sys

from suite.report.build import main

sys.exit(main())
