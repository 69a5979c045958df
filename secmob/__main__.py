import sys

from secmob.cli import main

sys.exit(main())
