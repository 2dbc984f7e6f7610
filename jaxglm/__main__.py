"""``python -m jaxglm``: the ``jaxglm`` command (:mod:`jaxglm.cli`)."""

from jaxglm.cli import main

raise SystemExit(main())
