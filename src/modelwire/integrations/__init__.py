"""Optional engines for bulk work: the same per-row logic for Ray Data, Spark and Dask.

`modelwire.integrations.batch` holds engine-agnostic batch functions (a pyarrow Table or pandas
DataFrame in, the same with result columns out); `modelwire.integrations.ray` wraps them as Ray
Data operators and writers (`pip install 'modelwire[ray]'`). See docs/at-scale.md.
"""
