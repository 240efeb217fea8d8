"""``python -m segrec``: the command line."""

from segrec.cli import main

if __name__ == "__main__":
    main()
