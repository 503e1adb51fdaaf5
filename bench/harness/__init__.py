"""What every benchmark scenario shares, by concern:

- common.py: the repo's paths, the servers' API key and host, timeouts, BenchError / Unavailable,
  logging, and naming a function for another process (function_name / resolve).
- processes.py: server processes (the emulator, or a bench-local server), their CPU time, pinning.
- samples.py: what a timed round yields (Sample, PhaseSample; CallResult / Outcome from a call).
- counting.py: RPC counts (CallCounter, a gRPC interceptor) and phase timing (PhaseClock).
- contenders.py: the contenders (sync, async, child process) and the timing of one round.
- rounds.py: warm-up, then interleaved rounds (run_interleaved) and their results (ContenderResult).
- plan.py: what a scenario is (Scenario, ScenarioContext, Plan, Comparison, CallBudget).
- venvs.py: the published SDKs' venvs (built by scripts/compat.py).
- report.py: the table printed per scenario.
- results.py: the results JSON.
- cli.py: bench/run.py's command line, running a scenario, the bench's own child processes.

Every module imports only the standard library (and bench) at module level, grpc, modelwire and the
SDKs inside the functions that need them: the published SDKs' child processes import them in their
own venvs.
"""
