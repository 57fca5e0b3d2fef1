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


_CHILD_BACKGROUND = textwrap.dedent("""
    import gc
    import threading
    from bot.analysis import classifiers, language, sentiment
    from bot.analysis.pipeline import analyze
    from bot.runtime import prepare_worker_process
    from datetime import UTC, datetime

    gc.disable()  # as `vigie run` starts
    prepare_worker_process(models_in_background=True)
    assert gc.get_freeze_count() > 10_000 and gc.isenabled()
    # The first analysis does not wait for the thread: it loads what it needs itself, once.
    result = analyze("My order never arrived, where is it?", now=datetime.now(UTC))
    assert result.language == "en" and result.complaint_probability is not None
    for thread in threading.enumerate():  # the loader, unless it is done already
        if thread.name == "load-models":
            thread.join(60)
    assert language._model is not None
    assert sorted(sentiment._models) == sorted(sentiment.SENTIMENT_LANGUAGES)
    assert len(classifiers._models) == 4
    print("ok")
""")


def test_models_can_load_in_the_background() -> None:
    """``vigie run`` and ``vigie worker`` start their scheduler while the models load."""
    result = subprocess.run([sys.executable, "-c", _CHILD_BACKGROUND], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"


_CHILD_CTRL_C = textwrap.dedent("""
    import os
    import signal
    from bot.runtime import _ctrl_c_held

    signal.signal(signal.SIGINT, signal.default_int_handler)
    reached = False
    try:
        with _ctrl_c_held():
            os.kill(os.getpid(), signal.SIGINT)  # while finalizers could swallow it
            reached = True
    except KeyboardInterrupt:
        print("interrupted after the block" if reached else "interrupted inside")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with _ctrl_c_held():
        os.kill(os.getpid(), signal.SIGINT)
    print("ignored stays ignored")
""")


def test_ctrl_c_during_the_start_up_collection_is_delivered_after_it() -> None:
    result = subprocess.run([sys.executable, "-c", _CHILD_CTRL_C], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "interrupted after the block\nignored stays ignored\n"
