"""`python -m modelwire` is the `modelwire` command (serve, migrate)."""

from modelwire.cli import main

raise SystemExit(main())
