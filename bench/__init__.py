"""modelwire's benchmarks: bench/run.py (the entry point), bench/harness/ (what every scenario shares)
and bench/scenarios/ (one module per scenario). See bench/README.md."""
