"""``python -m snncli`` runs the ``snn`` command."""

from snncli.cli.app import main

main()
