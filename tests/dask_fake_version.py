"""A Dask worker preload (`dask worker --preload tests/dask_fake_version.py`) for the version-check
test: the worker process then reports another ncfvid version than the coordinator's."""

import ncfvid

ncfvid.__version__ = "0.0.0+elsewhere"
