"""`python -m ncfvid` works like `ncfvid`."""

from ncfvid.cli import main

main()
