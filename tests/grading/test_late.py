"""Срок и опоздания: штраф из course.toml и записанного времени сдачи, не из баллов."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from course_grader import late
from course_utils import manifest

MSK = timezone(timedelta(hours=3))
DEADLINE = datetime(2027, 5, 31, 23, 59, tzinfo=MSK)
ASSIGNMENT = replace(
    manifest.load().assignments[0],
    deadline=DEADLINE,
    late_policy="penalty",
    late_penalty_per_day=10,
    late_penalty_max=25,
)


@pytest.mark.parametrize(
    ("after", "days", "percent"),
    [
        (timedelta(seconds=-1), 0, 0),
        (timedelta(0), 0, 0),
        (timedelta(seconds=1), 1, 10),
        (timedelta(hours=24), 1, 10),
        (timedelta(hours=24, seconds=1), 2, 20),
        (timedelta(days=30), 30, 25),
    ],
)
def test_penalty_per_started_day_with_a_cap(after, days, percent):
    result = late.assess(ASSIGNMENT, DEADLINE + after)
    assert (result.days_late, result.percent, result.rejected) == (days, percent, False)
    assert result.apply(8.0) == pytest.approx(8.0 * (1 - percent / 100))


def test_time_zones_are_compared_as_moments():
    # 21:00 UTC == 00:00 МСК следующего дня: на минуту позже срока 23:59 МСК.
    result = late.assess(ASSIGNMENT, datetime(2027, 5, 31, 21, 0, tzinfo=timezone.utc))
    assert result.days_late == 1


def test_reject_policy_gives_zero_after_the_deadline():
    rejecting = replace(ASSIGNMENT, late_policy="reject")
    on_time = late.assess(rejecting, DEADLINE)
    too_late = late.assess(rejecting, DEADLINE + timedelta(minutes=1))
    assert on_time.apply(9.0) == 9.0
    assert too_late.rejected and too_late.apply(9.0) == 0.0
    assert "не принимаются" in too_late.describe()


def test_no_deadline_or_no_time_means_no_penalty():
    assert (
        late.assess(replace(ASSIGNMENT, deadline=None), DEADLINE + timedelta(days=9)).percent == 0
    )
    unknown = late.assess(ASSIGNMENT, None)
    assert unknown.percent == 0 and "не записано" in unknown.describe()


def test_describe_tells_the_student_when_and_how_much():
    text = late.assess(ASSIGNMENT, DEADLINE + timedelta(hours=30)).describe()
    assert "опоздание 2 сут." in text and "штраф 20 %" in text and "2027-05-31 23:59" in text


def test_timestamp_round_trip_and_bad_files(tmp_path):
    moment = datetime(2027, 6, 1, 10, 0, 5, tzinfo=MSK)
    late.write_timestamp(tmp_path, moment)
    assert late.read_timestamp(tmp_path) == moment
    (tmp_path / late.TIMESTAMP_FILE).write_text("вчера", encoding="utf-8")
    assert late.read_timestamp(tmp_path) is None
    (tmp_path / late.TIMESTAMP_FILE).write_text("2027-06-01 10:00:00", encoding="utf-8")
    assert late.read_timestamp(tmp_path) == datetime(2027, 6, 1, 10, tzinfo=timezone.utc)
