"""Benchmarks: run by hand or by CI in quick mode; never timing asserts in tests."""
