"""The benchmark harness: the protocol of ../shared/BENCH.md, our models and peers side by side.

    python -m benchmarks run --models bicubic,lanczos,raisr,default --scales 2 3 4
    python -m benchmarks pipeline          # whole-command speed and memory, 1 MP and 100 MP
    python -m benchmarks report            # BENCHMARKS.md and the plot from the JSON results
"""
