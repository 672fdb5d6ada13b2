from kiwishop.cli import main

raise SystemExit(main())
