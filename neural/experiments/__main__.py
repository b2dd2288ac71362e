import sys

from neural.experiments.cli import main

sys.exit(main())
