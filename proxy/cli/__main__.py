"""`python -m proxy.cli`: the same as the `strangler` console script."""

import sys

from proxy.cli.main import main

sys.exit(main(sys.argv[1:]))
