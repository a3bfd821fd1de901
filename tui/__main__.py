"""`python -m tui` is the `campaigns` command."""

from tui.cli import main

main()
