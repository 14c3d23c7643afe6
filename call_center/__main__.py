import sys

from call_center.cli import main

sys.exit(main())
