import sys

from annotation.cli.main import main

sys.exit(main())
