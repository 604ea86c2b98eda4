"""Golden journals of the suspension patterns (``tests/record_goldens.py``), replayed against
today's code: each was suspended on its wait by its first invocation; once the wait is over,
the next invocation finishes it without running again a step the journal holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.functional import test_attacks as attacks
from tests.functional import test_suspension as patterns
from tests.support import CALLS, Harness, load_journal_fixture

Build = Callable[..., Harness]

CASES = [  # workflow, its wait, its result, the step bodies left to run
    (patterns.task_group_wait, {"minutes": 5}, ["done", "after"], {"after": 1}),
    (patterns.async_with_wait, {"minutes": 5}, "closed", {"inside": 1, "close": 1}),
    (patterns.busy_beside_a_long_wait, {"hours": 1}, [None, 1, 8], {}),
    (patterns.detached_task, {"minutes": 1}, "side", {}),
    (attacks.swallows_suspend, {"seconds": 10}, "woke", {}),
    (attacks.gather_return_exceptions, {"seconds": 10}, [None, 1], {}),
    (attacks.finally_around_a_wait, {"seconds": 10}, "done", {"cleanup": 1}),
]


@pytest.mark.parametrize(
    ("wf", "wait", "result", "left"), CASES, ids=[case[0].id for case in CASES]
)
def test_a_golden_journal_of_a_suspension_pattern_replays_to_its_result(
    harness: Build, wf: Any, wait: dict[str, float], result: Any, left: dict[str, int]
) -> None:
    h = harness(wf)
    execution_id = load_journal_fixture(h.journal, f"golden_{wf.id}.json")
    h.clock.advance(**wait)
    h.invoker.invoke_async(execution_id)
    assert h.client.handle(execution_id).result(timeout=5) == result
    assert CALLS == left
