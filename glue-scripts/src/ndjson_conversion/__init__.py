"""The Glue job's conversion of one manifest's NDJSON objects to Parquet, as a package beside the entry script
glue-scripts/ndjson_to_parquet.py, which Glue runs with this package on its path (``--extra-py-files``).

One module per concern; docs/architecture.md ("Glue job", I4, I5, I8) states what the job guarantees, and
glue-scripts/README.md how it is run, tested and measured.
"""
