"""Benchmarks of jaxglm against peer GLM libraries.

Scripts, not timed tests: one shared problem set (:mod:`benchmarks.problems`), one adapter
per library (:mod:`benchmarks.adapters`), a tight float64 reference per problem
(:mod:`benchmarks.reference`), the per-iteration cost floor (:mod:`benchmarks.floor`) and
the runner ``python -m benchmarks.run`` that writes ``benchmarks/RESULTS.md`` and
``benchmarks/results.png``.
"""
