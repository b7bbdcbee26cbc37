"""`make bench`: our assistant next to a stock `rasa init` assistant, measured in one run
on one machine (latency, throughput with one and two instances, memory, training time),
written to docs/benchmarks.md. A benchmark, not a test: it reports, it does not assert."""
