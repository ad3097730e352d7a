from skillway.cli import main

raise SystemExit(main())
