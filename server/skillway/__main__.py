from skillway.cli.main import main

raise SystemExit(main())
