"""A scheduler process loads its models up front and freezes its long-lived objects."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# In a child process: freezing would otherwise keep the whole test session's objects.
_CHILD = textwrap.dedent("""
    import gc
    from bot.analysis import language, sentiment
    from bot.runtime import YOUNG_GC_THRESHOLD, prepare_worker_process

    assert language._model is None and not sentiment._models
    prepare_worker_process()
    assert language._model is not None
    assert sorted(sentiment._models) == sorted(sentiment.SENTIMENT_LANGUAGES)
    frozen = gc.get_freeze_count()
    assert frozen > 10_000, frozen
    assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD
    # What the work allocates afterwards is still collected.
    class Node:
        pass
    a, b = Node(), Node()
    a.other, b.other = b, a
    del a, b
    assert gc.collect() >= 2
    print("ok", frozen)
""")


def test_prepare_worker_process_loads_models_and_freezes() -> None:
    result = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok ")
