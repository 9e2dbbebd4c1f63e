"""The benchmark harness every section of `make bench` (Benchmarks/run_bench.py) stands on.

  process   measure one tool's process: wall time, peak RSS, sampled peak RssAnon, CPU
  section   the skeleton of a section: progress lines, failures, notes, workdir, table
            and results JSON; a section declares only its workloads, table and goals
  report    the results document (header, atomic write) and the text tables
  layouts   the io/s3 sections' expected Zarr layout and the comparison with what a tool wrote
  servers   the server launchers and free_port, shared with the conformance tests
            (Tests/Conformance/support/): moto's S3 server and `tessera serve`
"""
