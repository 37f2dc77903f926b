"""``python -m imugait`` runs the CLI."""

from imugait.cli import main

main()
