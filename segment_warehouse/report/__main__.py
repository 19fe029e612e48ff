import sys

from segment_warehouse.report.cli import main

sys.exit(main())
