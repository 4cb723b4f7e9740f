"""``python cli.py …`` in a checkout: the same CLI as the installed ``go1sync`` command
(``go1sync.cli``), so the README's commands work before and after ``pip install``."""

from go1sync.cli import main

if __name__ == "__main__":
    main()
