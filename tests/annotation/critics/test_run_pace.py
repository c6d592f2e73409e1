"""The time left in a critic run, read from the pace of its latest results."""

from annotation.critics.runs import RunProgress


def test_no_estimate_before_a_few_results():
    p = RunProgress(run_id=1, total=1000)
    assert p.eta_s is None
    p.marks.extend([3.6, 3.7])
    assert p.eta_s is None


def test_a_slow_first_answer_does_not_set_the_pace():
    """Issue 17: 8 requests at once, the first answer after 3.6 s: "about 3,649 s left" for a 46 s run."""
    p = RunProgress(run_id=1, total=1000, done=8)
    p.marks.extend([3.6 + 0.02 * i for i in range(8)])  # the first batch lands together, then ~0.05 s apart
    p.marks.extend([3.8 + 0.05 * i for i in range(12)])
    p.done = 20
    assert p.eta_s is not None and 20 < p.eta_s < 80
    old_way = (p.total - p.finished) / (p.done / 3.8)
    assert old_way > 150  # what the start-to-now pace said


def test_the_window_follows_the_latest_results():
    p = RunProgress(run_id=1, total=200, done=150)
    p.marks.extend([0.1 * i for i in range(100)])  # 10 a second, early on
    p.marks.extend([10 + 1.0 * i for i in range(50)])  # then one a second
    assert 45 <= p.eta_s <= 55  # 50 left at one a second
